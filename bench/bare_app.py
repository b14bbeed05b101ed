"""The baseline of `ingest_capacity`: a bare FastAPI JSON endpoint at the webhook's path, run by
uvicorn the way tracking-service is. It parses the JSON body and answers with a small JSON one;
no signature check, no database."""

from typing import Any

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/{source_id}/deals")
    async def receive_deal(source_id: str, deal: dict[str, Any]) -> dict[str, Any]:
        return {"deal_id": deal["id"], "version": deal["version"], "duplicate": False}

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app
