"""Run every benchmark and print its results table row(s)."""

from bench import (
    aide_day,
    appointment_booking,
    appointments,
    audit_log,
    booking_burst,
    growth,
    page_weight,
    planning,
    sms,
    sync,
)


def main() -> None:
    print("| benchmark | figure | reference | ratio | date |")
    print("| --- | --- | --- | --- | --- |")
    for benchmark in (
        audit_log,
        sync,
        sms,
        appointments,
        appointment_booking,
        booking_burst,
        planning,
        page_weight,
        aide_day,
        growth,
    ):
        for row in benchmark.run():
            print(row, flush=True)


if __name__ == "__main__":
    main()
