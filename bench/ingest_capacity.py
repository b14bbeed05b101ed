"""ingest_capacity: signed single-deal webhooks from a concurrent load generator, against a bare
FastAPI JSON endpoint on the same machine in the same run (BENCHMARKS.md).

    uv run python bench/ingest_capacity.py --scale W/10
"""

import asyncio
import base64
import os
from collections.abc import Callable

from _stack import (
    SOURCE_ID,
    Load,
    Request,
    bench_stack,
    deal_bodies,
    json_bytes,
    parse_scale,
    post_load,
    print_figure,
    print_headline,
    print_workload,
    serving,
    tracking_service,
)

from attain_devstack.workload import Workload
from tracking_service.cli.sign import signed_headers

CONNECTIONS = 32  # a CRM's webhook workers, or several CRMs
WARM_UP_SECONDS, SECONDS = 3.0, 15.0
TARGET_RATIO, TARGET_P95_MS = 0.4, 200.0
PATH = f"/webhooks/{SOURCE_ID}/deals"


def main() -> None:
    workload = Workload(parse_scale(__doc__))
    print_workload(workload, f", {CONNECTIONS} connections for {SECONDS:.0f} s per endpoint")
    with bench_stack() as stack:
        # The same requests, signed alike, although the bare endpoint checks nothing.
        bare_secret = "whsec_" + base64.b64encode(b"bare endpoint, same signing work").decode()
        with serving("bare_app:create_app", dict(os.environ), stack.work_dir / "bare.log") as url:
            bare = asyncio.run(measure(url, signed_deals(workload, bare_secret)))
        with tracking_service(stack, workload) as tracking:
            service = asyncio.run(
                measure(tracking.url, signed_deals(workload, tracking.source_secret))
            )
    ratio = service.per_second / bare.per_second
    p95, errors = service.percentile_ms(95), sum(service.errors.values())
    print_figure("tracking-service", service.summary())
    print_figure("baseline bare FastAPI endpoint", bare.summary())
    print_figure("ratio", f"{ratio:.2f}")
    print_headline(
        "ingest_capacity",
        f"{ratio:.2f} x bare requests/s (p95 {p95:.0f} ms, {errors} errors)",
        f">= {TARGET_RATIO} x bare, p95 < {TARGET_P95_MS:.0f} ms, no errors",
        ratio >= TARGET_RATIO and p95 < TARGET_P95_MS and errors == 0,
    )


def signed_deals(workload: Workload, secret: str) -> Callable[[int], Request]:
    bodies = deal_bodies(workload, "cap")

    def request(n: int) -> Request:
        body = json_bytes(next(bodies))
        return body, signed_headers(secret, body.decode())

    return request


async def measure(url: str, request: Callable[[int], Request]) -> Load:
    await post_load(url, PATH, request, seconds=WARM_UP_SECONDS, connections=CONNECTIONS)
    return await post_load(url, PATH, request, seconds=SECONDS, connections=CONNECTIONS)


if __name__ == "__main__":
    main()
