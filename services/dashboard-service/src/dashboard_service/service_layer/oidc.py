"""Production sign-in: OpenID Connect's authorization-code flow with PKCE (S256), through
Authlib's httpx client, at the identity provider whose access tokens the APIs accept. The
access token it returns is what the session cookie then holds and the pages send on.

What the callback must check (state, nonce, the PKCE verifier, where to go next) travels in a
short-lived cookie signed with the dashboard's secret, as the page tokens are: the dashboard
keeps no sessions, so any replica can finish a sign-in that another one began. The verifier in
it is only ever in this browser's HttpOnly cookie and the provider's token request, which is
what PKCE asks (RFC 7636): a code seen elsewhere (a log, a referrer) cannot be redeemed."""

import asyncio
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from dashboard_service.settings import DashboardSettings
from servicekit.auth import JwksVerifier, TokenVerifier
from servicekit.errors import Unreachable
from servicekit.problems import Unauthorized

SIGN_IN_AUDIENCE = "attain-dashboard-sign-in"
# Long enough to type a password and pass a second factor, short enough that a cookie left
# behind is useless soon.
SIGN_IN_TTL = timedelta(minutes=10)
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Provider:
    """What the provider's discovery document names."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    id_token_algorithms: list[str]


@dataclass(frozen=True)
class SignInStarted:
    location: str  # the provider's authorization URL
    pending: str  # the signed cookie the callback checks


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    expires_in: int  # seconds until the access token's `exp`
    next_path: str


class OidcSignIn:
    def __init__(self, settings: DashboardSettings, api_tokens: TokenVerifier) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self._settings = settings
        self._issuer = settings.oidc_issuer.rstrip("/")
        self._client_id = settings.oidc_client_id
        self._secret = settings.jwt_secret.get_secret_value()
        self._api_tokens = api_tokens
        self._provider: Provider | None = None
        self._id_tokens: JwksVerifier | None = None

    async def start(self, http: httpx.AsyncClient, next_path: str) -> SignInStarted:
        provider = await self._discovered(http)
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        async with self._client() as client:
            location, _ = client.create_authorization_url(
                provider.authorization_endpoint, state=state, code_verifier=verifier, nonce=nonce
            )
        now = datetime.now(UTC)
        pending = jwt.encode(
            {
                "aud": SIGN_IN_AUDIENCE,
                "iat": now,
                "exp": now + SIGN_IN_TTL,
                "state": state,
                "nonce": nonce,
                "verifier": verifier,
                "next": next_path,
            },
            self._secret,
            algorithm="HS256",
        )
        return SignInStarted(location=location, pending=pending)

    async def finish(
        self, http: httpx.AsyncClient, pending: str | None, state: str | None, code: str | None
    ) -> SignedIn:
        """The callback: the same browser that started (state), the code redeemed with its
        verifier, the ID token for this sign-in (nonce), and an access token the APIs accept."""
        started = self._pending(pending)
        if not state or not hmac.compare_digest(state, started["state"]):
            raise Unauthorized("sign-in refused: the state does not match this browser's sign-in")
        if not code:
            raise Unauthorized("sign-in refused: the identity provider sent no code")
        provider = await self._discovered(http)
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    provider.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=started["verifier"],
                )
        except OAuthError as error:
            raise Unauthorized(
                f"sign-in refused by the identity provider: {error.error} {error.description or ''}"
            ) from error
        except httpx.HTTPError as error:
            raise _unreachable(error) from error
        id_token = _text(token, "id_token")
        id_claims = await asyncio.to_thread(self._id_token_verifier(provider).claims, id_token)
        if not hmac.compare_digest(str(id_claims.get("nonce", "")), started["nonce"]):
            raise Unauthorized("sign-in refused: the ID token is not for this sign-in (nonce)")
        access_token = _text(token, "access_token")
        # Refused here rather than on the first page: a token the APIs would not accept (another
        # audience, roles of the wrong shape) is a sign-in that failed.
        await asyncio.to_thread(self._api_tokens.verify, access_token)
        expires = jwt.decode(access_token, options={"verify_signature": False})["exp"]
        return SignedIn(
            access_token=access_token,
            expires_in=max(0, int(expires - datetime.now(UTC).timestamp())),
            next_path=str(started["next"]),
        )

    def _client(self) -> AsyncOAuth2Client:
        secret = self._settings.oidc_client_secret
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=secret.get_secret_value() if secret else None,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=self._settings.oidc_scopes,
            redirect_uri=self._settings.oidc_redirect_uri,
            code_challenge_method="S256",
            timeout=self._settings.upstream_timeout_seconds,
        )

    def _pending(self, pending: str | None) -> dict[str, Any]:
        if not pending:
            raise Unauthorized("sign-in refused: this browser started no sign-in (or it expired)")
        try:
            claims: dict[str, Any] = jwt.decode(
                pending,
                self._secret,
                algorithms=["HS256"],
                audience=SIGN_IN_AUDIENCE,
                options={"require": ["exp", "state", "nonce", "verifier", "next"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"sign-in refused: {error}") from error
        return claims

    async def _discovered(self, http: httpx.AsyncClient) -> Provider:
        if self._provider is None:
            try:
                response = await http.get(self._issuer + DISCOVERY_PATH)
                response.raise_for_status()
            except httpx.HTTPError as error:
                raise _unreachable(error) from error
            document = response.json()
            # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it came from.
            if str(document.get("issuer", "")).rstrip("/") != self._issuer:
                raise Unreachable(
                    "identity-provider-misconfigured",
                    "The identity provider names another issuer",
                    f"{self._issuer}{DISCOVERY_PATH} says issuer {document.get('issuer')!r}",
                )
            self._provider = Provider(
                issuer=document["issuer"],
                authorization_endpoint=document["authorization_endpoint"],
                token_endpoint=document["token_endpoint"],
                jwks_uri=document["jwks_uri"],
                id_token_algorithms=document.get("id_token_signing_alg_values_supported")
                or ["RS256"],
            )
        return self._provider

    def _id_token_verifier(self, provider: Provider) -> JwksVerifier:
        if self._id_tokens is None:
            self._id_tokens = JwksVerifier(
                provider.jwks_uri,
                issuer=provider.issuer,
                audience=self._client_id,
                algorithms=[
                    alg
                    for alg in provider.id_token_algorithms
                    if alg in self._settings.jwt_algorithms
                ],
                cache_seconds=self._settings.jwt_jwks_cache_seconds,
                refetch_cooldown_seconds=self._settings.jwt_jwks_refetch_cooldown_seconds,
            )
        return self._id_tokens


def _text(token: dict[str, Any], name: str) -> str:
    value = token.get(name)
    if not isinstance(value, str) or not value:
        raise Unauthorized(f"sign-in refused: the identity provider sent no {name}")
    return value


def _unreachable(error: Exception) -> Unreachable:
    return Unreachable(
        "identity-provider-unavailable", "The identity provider did not answer", repr(error)
    )
