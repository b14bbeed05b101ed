"""A small OpenID Connect provider for tests: what production's identity provider does for
Attain, over real HTTP on a free 127.0.0.1 port. It publishes its keys (an RSA and an EC key,
made at start; `rotate()` replaces the RSA key under a new `kid`), signs access tokens for the
APIs (`aud` = the configured audience, Attain's `roles` and `person_id`), and runs the
authorization-code flow with PKCE (S256) for one registered client, approving the configured
user without asking, and the client-credentials grant for services that read one another
(`service_clients`, each token a `viewer`): /.well-known/openid-configuration, /jwks,
/authorize, /token."""

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

TOKEN_SECONDS = 300
CODE_SECONDS = 60
START_TIMEOUT_SECONDS = 10.0

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private: PrivateKey

    @classmethod
    def new(cls, alg: str) -> "SigningKey":
        private: PrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if alg == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        return cls(kid=f"{alg.lower()}-{secrets.token_hex(4)}", alg=alg, private=private)

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        jwk = (
            jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
            if isinstance(public, rsa.RSAPublicKey)
            else jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
        )
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}


@dataclass
class User:
    """Who the provider signs in: Attain reads `sub`, `person_id` and `roles`."""

    subject: str = "ann"
    person_id: str | None = "ann"
    roles: list[str] = field(default_factory=lambda: ["rep"])


@dataclass(frozen=True)
class Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    scope: str
    user: User
    expires: float


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class IdentityProvider:
    def __init__(
        self,
        *,
        audience: str = "attain",
        client_id: str = "attain-dashboard",
        client_secret: str | None = "dashboard-client-secret",
        redirect_uris: tuple[str, ...] = ("https://dashboard.test/sign-in/callback",),
        user: User | None = None,
        service_clients: dict[str, str] | None = None,
    ) -> None:
        self.audience = audience
        # client id -> secret, for the client-credentials grant
        self.service_clients = (
            {"goal-service": "goal-service-secret", "alert-service": "alert-service-secret"}
            if service_clients is None
            else service_clients
        )
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = set(redirect_uris)
        self.user = user or User()
        self.keys = {alg: SigningKey.new(alg) for alg in ("RS256", "ES256")}
        self.issuer = ""
        self.jwks_requests = 0
        self._codes: dict[str, Grant] = {}
        self._lock = threading.Lock()

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    def rotate(self, alg: str = "RS256") -> SigningKey:
        """A new key for `alg` under a new `kid`; the old one is withdrawn from the JWKS."""
        self.keys[alg] = SigningKey.new(alg)
        return self.keys[alg]

    def access_token(
        self,
        *,
        alg: str = "RS256",
        key: SigningKey | None = None,
        kid: str | None = None,
        ttl: float = TOKEN_SECONDS,
        user: User | None = None,
        **claims: Any,
    ) -> str:
        """An access token for `user` (the configured one) as /token issues it; `claims`
        override, add or (given None) remove claims, `kid` names another key in the header."""
        user = user or self.user
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": user.subject,
            "aud": self.audience,
            "iat": now,
            "exp": now + int(ttl),
            "roles": list(user.roles),
            "client_id": self.client_id,
        }
        if user.person_id:
            body["person_id"] = user.person_id
        body = {name: value for name, value in {**body, **claims}.items() if value is not None}
        return self._sign(body, key or self.keys[alg], kid)

    def _sign(self, claims: dict[str, Any], key: SigningKey, kid: str | None = None) -> str:
        return jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": kid or key.kid})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
            ]
        )

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": self.jwks_url,
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": sorted(self.keys),
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "none",
                ],
                "scopes_supported": ["openid", "profile"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        self.jwks_requests += 1
        return JSONResponse({"keys": [key.public_jwk() for key in self.keys.values()]})

    async def _authorize(self, request: Request) -> Response:
        asked = request.query_params
        # An unknown client or redirect URI is answered here, never by a redirect to it.
        if asked.get("client_id") != self.client_id:
            return _error("invalid_request", "unknown client_id")
        redirect_uri = asked.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            return _error("invalid_request", "redirect_uri is not registered for this client")
        if asked.get("response_type") != "code":
            return _error("unsupported_response_type", "only the code flow")
        if asked.get("code_challenge_method") != "S256" or not asked.get("code_challenge"):
            return _error("invalid_request", "PKCE with S256 is required")
        if "openid" not in asked.get("scope", "").split():
            return _error("invalid_scope", "the openid scope is required")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = Grant(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                code_challenge=asked["code_challenge"],
                nonce=asked.get("nonce"),
                scope=asked["scope"],
                user=self.user,
                expires=time.time() + CODE_SECONDS,
            )
        answer = {"code": code, **({"state": asked["state"]} if "state" in asked else {})}
        return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        client_id, secret = _client_credentials(request, form)
        if form.get("grant_type") == "client_credentials":
            return self._service_token(client_id, secret)
        if client_id != self.client_id or not _secret_matches(self.client_secret, secret):
            return _error("invalid_client", "client authentication failed", status_code=401)
        if form.get("grant_type") != "authorization_code":
            return _error("unsupported_grant_type", "only authorization_code")
        with self._lock:
            grant = self._codes.pop(str(form.get("code", "")), None)
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            return _error("invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error("invalid_grant", "redirect_uri differs from the authorization request")
        verifier = str(form.get("code_verifier", ""))
        if not hmac.compare_digest(s256(verifier), grant.code_challenge):
            return _error("invalid_grant", "code_verifier does not match the code_challenge")
        now = int(time.time())
        id_claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.user.subject,
            "aud": client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "auth_time": now,
        }
        if grant.nonce is not None:
            id_claims["nonce"] = grant.nonce
        return JSONResponse(
            {
                "access_token": self.access_token(user=grant.user, scope=grant.scope),
                "id_token": self._sign(id_claims, self.keys["RS256"]),
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "scope": grant.scope,
            },
            headers={"Cache-Control": "no-store"},
        )

    def _service_token(self, client_id: str | None, secret: str | None) -> Response:
        expected = self.service_clients.get(client_id or "")
        if client_id is None or expected is None or not _secret_matches(expected, secret):
            return _error("invalid_client", "client authentication failed", status_code=401)
        service = User(subject=client_id, person_id=None, roles=["viewer"])
        return JSONResponse(
            {
                "access_token": self.access_token(user=service, client_id=client_id),
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
            },
            headers={"Cache-Control": "no-store"},
        )


def _client_credentials(request: Request, form: Any) -> tuple[str | None, str | None]:
    """client_secret_basic, client_secret_post, or a public client's bare client_id."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return None, None
        return unquote_plus(user), unquote_plus(password)
    secret = form.get("client_secret")
    return form.get("client_id"), str(secret) if secret is not None else None


def _secret_matches(expected: str | None, given: str | None) -> bool:
    if expected is None:
        return given is None
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def _error(code: str, description: str, status_code: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code)


@contextmanager
def running_identity_provider(
    provider: IdentityProvider | None = None,
) -> Iterator[IdentityProvider]:
    """The provider served by uvicorn in a thread until the block ends."""
    provider = provider or IdentityProvider()
    config = uvicorn.Config(
        provider.app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="identity-provider", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test identity provider did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    provider.issuer = f"http://127.0.0.1:{port}"
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)
