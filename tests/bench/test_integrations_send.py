"""send-whatsapp client throughput against the local simulator (pooled keep-alive connections).

Run with `make bench`. Prints messages/s for 1 and 8 sender threads; the campaign
dispatcher needs ~100 messages/s. Figures depend on the machine (the simulator
shares the CPU with the client), so nothing is asserted beyond "all were sent once".
"""

import time
from concurrent.futures import ThreadPoolExecutor

from integrations.clients.edge_functions import SendWhatsAppClient

MESSAGES = 2000


def _run(threads: int, prefix: str) -> float:
    client = SendWhatsAppClient()

    def send(i: int) -> str:
        return client.send(
            to=f"+2507880{i:05d}",
            template="promo",
            variables={"n": i},
            idempotency_key=f"{prefix}-{i}",
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        ids = list(pool.map(send, range(MESSAGES)))
    elapsed = time.perf_counter() - started
    assert len(set(ids)) == MESSAGES
    return MESSAGES / elapsed


def test_send_throughput(simulator):
    for threads in (1, 8):
        rate = _run(threads, f"t{threads}")
        print(
            f"\nsend-whatsapp via simulator: {threads} thread(s): {rate:.0f} msgs/s "
            f"({MESSAGES} messages)"
        )
    assert simulator.sent_total() == 2 * MESSAGES
