import re
from tests.live.test_appointments_contention import test_fifty_requests_for_one_start_make_exactly_one_booking as _t


def test_probe(live, database):
    _t(live, database)
    text = live.server.log_path.read_text(errors="replace")
    times = sorted(int(m) for m in re.findall(r'"POST /api/appointments" \d+ \d+ (\d+)ms', text))
    print("server ms sorted:", times)
