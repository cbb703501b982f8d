"""Run every benchmark and print its results table row(s)."""

from bench import audit_log


def main() -> None:
    print("| benchmark | figure | reference | ratio | date |")
    print("| --- | --- | --- | --- | --- |")
    for row in audit_log.run():
        print(row)


if __name__ == "__main__":
    main()
