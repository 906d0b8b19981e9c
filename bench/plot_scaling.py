"""Plots bench/scaling.sh's CSV: requests per second against CPUs (nginx's GET ceiling,
deliveryhub's GET and POST, and where measured POST on PostgreSQL beside pgbench), with the
settled share of POST on a second axis."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(csv_path: str, png_path: str, machine: str) -> None:
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    cpus = [int(r["cpus"]) for r in rows]

    def series(name):
        return [float(r[name]) if r[name] not in ("", "n/a") else float("nan") for r in rows]

    fig, ax = plt.subplots(figsize=(8, 5.6))
    ax.plot(cpus, series("nginx_get_rps"), "o--", color="grey", label="nginx, same GET body (ceiling)")
    ax.plot(cpus, series("get_rps"), "o-", label="deliveryhub GET /api/v1/orders/{id}")
    ax.plot(cpus, series("post_accepted_per_s"), "s-", label="deliveryhub POST /api/v1/orders (accepted)")
    if any(r.get("pg_post_accepted_per_s", "n/a") != "n/a" for r in rows):
        ax.plot(cpus, series("pg_post_accepted_per_s"), "s-", color="tab:purple",
                label="deliveryhub POST on PostgreSQL (accepted)")
        ax.plot(cpus, series("pgbench_tps"), "d--", color="tab:brown", label="pgbench TPC-B-like tps (its ceiling)")
    ax.set_xlabel("CPUs (deliveryhub and nginx pinned; wrk shares the machine)")
    ax.set_ylabel("requests per second (median)")
    ax.set_yscale("log")
    ax.set_xticks(cpus)
    ax.grid(True, which="both", alpha=0.3)
    settled = ax.twinx()
    settled.plot(cpus, series("settled_pct"), "^:", color="tab:green", label="POST settled by +5 s (%)")
    if any(r.get("pg_settled_pct", "n/a") != "n/a" for r in rows):
        settled.plot(cpus, series("pg_settled_pct"), "v:", color="tab:purple",
                     label="PostgreSQL POST settled by +5 s (%)")
    settled.set_ylim(0, 110)
    settled.set_ylabel("settled by +5 s (%)")
    lines = ax.get_legend_handles_labels()
    more = settled.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
              fontsize=8)
    ax.set_title("deliveryhub throughput against CPUs\n" + machine.removeprefix("- Machine: "), fontsize=9)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
