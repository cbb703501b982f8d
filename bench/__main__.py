"""Run every benchmark and print its results table row(s)."""

from bench import audit_log, sync


def main() -> None:
    print("| benchmark | figure | reference | ratio | date |")
    print("| --- | --- | --- | --- | --- |")
    for benchmark in (audit_log, sync):
        for row in benchmark.run():
            print(row, flush=True)


if __name__ == "__main__":
    main()
