from typing import Annotated

from fastapi import Depends, Request

from alert_service.settings import AlertSettings


def alert_settings(request: Request) -> AlertSettings:
    settings = request.app.state.settings
    assert isinstance(settings, AlertSettings)
    return settings


SettingsDep = Annotated[AlertSettings, Depends(alert_settings)]
