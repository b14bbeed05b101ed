"""The delivery worker: the queue loop of `servicekit.wakeup.drain_queue` on the
deliveries. Each take leases the due deliveries it has room for and sends each
in its own task and transaction (a slow channel holds up no other); at most
`delivery_batch_size` are in flight at once."""

import asyncio

import httpx

from alert_service.clients.senders import Senders, smtp_config
from alert_service.service_layer import AlertRuntime, deliveries
from alert_service.store.deliveries import WAKE_CHANNEL
from servicekit.wakeup import drain_queue


async def run_deliveries(runtime: AlertRuntime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    sending: set[asyncio.Task[None]] = set()

    async def send(senders: Senders, delivery_id: str) -> None:
        async with runtime.unit_of_work() as uow:
            await deliveries.send(uow, settings, senders, delivery_id)
            await uow.commit()

    async with httpx.AsyncClient(timeout=settings.http_timeout_seconds) as http:
        senders = Senders(http, smtp_config(settings), runtime.clock.now)

        async def take() -> int:
            room = settings.delivery_batch_size - len(sending)
            if room <= 0:
                return 0
            async with runtime.unit_of_work() as uow:
                leased = await deliveries.lease_due(uow, settings, room)
                await uow.commit()
            for delivery_id in leased:
                task = asyncio.create_task(send(senders, delivery_id))
                sending.add(task)
                task.add_done_callback(sending.discard)
            return len(leased)

        try:
            await drain_queue(
                runtime.engine,
                WAKE_CHANNEL,
                stop,
                take,
                batch_size=settings.delivery_batch_size,
                poll_seconds=settings.delivery_poll_seconds,
            )
        finally:
            await asyncio.gather(*sending, return_exceptions=True)
