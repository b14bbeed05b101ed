"""Production tokens, checked against a real identity provider over HTTP (attain_devstack's
test provider): its current keys are accepted, a rotated key is picked up by one refetch, and
every token it did not sign for us (other issuer, other audience, expired, another algorithm,
an unknown key) is refused with a 401 that says why."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from attain_devstack.identity import IdentityProvider
from servicekit.auth import JwksVerifier, Role, TokenVerifier, mint_token, verifier_for
from servicekit.problems import Unauthorized
from servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration


def verifier(provider: IdentityProvider, **overrides: Any) -> TokenVerifier:
    settings = ServiceSettings(
        environment="production",
        jwt_secret=SecretStr("a-production-secret-of-at-least-32-bytes"),
        jwt_jwks_url=provider.jwks_url,
        jwt_issuer=provider.issuer,
        **overrides,
    )
    return verifier_for(settings)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    """A token signed by hand: HS256 with `secret`, or no signature at all."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{_b64(signature)}"


def claims_of(provider: IdentityProvider) -> dict[str, Any]:
    return jwt.decode(provider.access_token(), options={"verify_signature": False})


def refused(check: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as refusal:
        check.verify(token)
    assert refusal.value.status == 401
    return refusal.value.detail


def test_tokens_signed_with_the_providers_current_keys_are_accepted(
    identity_provider: IdentityProvider,
) -> None:
    check = verifier(identity_provider)
    assert isinstance(check, JwksVerifier)
    for alg in ("RS256", "ES256"):
        principal = check.verify(identity_provider.access_token(alg=alg))
        assert principal.subject == "ann" and principal.person_id == "ann"
        assert principal.roles == {Role.REP}
    assert identity_provider.jwks_requests == 1


def test_a_rotated_key_is_fetched_once_and_the_withdrawn_one_is_refused(
    identity_provider: IdentityProvider,
) -> None:
    check = verifier(identity_provider, jwt_jwks_refetch_cooldown_seconds=0)
    before = identity_provider.access_token()
    check.verify(before)
    check.verify(identity_provider.access_token())
    assert identity_provider.jwks_requests == 1  # cached

    identity_provider.rotate()
    after = identity_provider.access_token()
    assert check.verify(after).subject == "ann"
    assert identity_provider.jwks_requests == 2  # the unknown kid's one refetch
    check.verify(identity_provider.access_token())
    assert identity_provider.jwks_requests == 2

    assert "publishes no key" in refused(check, before)


def test_made_up_key_ids_cost_at_most_one_refetch_per_cooldown(
    identity_provider: IdentityProvider,
) -> None:
    check = verifier(identity_provider, jwt_jwks_refetch_cooldown_seconds=60)
    check.verify(identity_provider.access_token())
    for n in range(5):
        assert "publishes no key" in refused(check, identity_provider.access_token(kid=f"k{n}"))
    assert identity_provider.jwks_requests == 1


def test_an_unknown_key_id_is_refused_after_one_refetch(
    identity_provider: IdentityProvider,
) -> None:
    check = verifier(identity_provider, jwt_jwks_refetch_cooldown_seconds=0)
    check.verify(identity_provider.access_token())
    assert "publishes no key" in refused(check, identity_provider.access_token(kid="nobody"))
    assert identity_provider.jwks_requests == 2


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://impostor.example.com"}, "issuer"),
        ({"aud": "another-api"}, "audience"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"iss": None}, "iss"),
    ],
    ids=["wrong issuer", "wrong audience", "expired", "no issuer"],
)
def test_tokens_not_issued_for_us_are_refused(
    identity_provider: IdentityProvider, overrides: dict[str, Any], reason: str
) -> None:
    token = identity_provider.access_token(**overrides)
    assert reason in refused(verifier(identity_provider), token).lower()


def test_a_token_in_an_algorithm_we_do_not_accept_is_refused(
    identity_provider: IdentityProvider,
) -> None:
    check = verifier(identity_provider)
    rsa = identity_provider.keys["RS256"]
    claims = claims_of(identity_provider)
    public_pem = rsa.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    attempts = {
        "the development secret": mint_token(
            "attain-development-secret-change-me", subject="ann", roles=[Role.ADMIN]
        ),
        "none": forged({"alg": "none", "kid": rsa.kid}, claims, None),
        # The classic confusion: the provider's public key (anyone may fetch it) as the
        # HMAC secret, hoping the verifier feeds the key it found to the header's algorithm.
        "HS256 with the public key": forged({"alg": "HS256", "kid": rsa.kid}, claims, public_pem),
    }
    for name, token in attempts.items():
        assert "is not accepted" in refused(check, token), name
    assert identity_provider.jwks_requests == 0  # refused before any key was looked up

    only_ec = verifier(identity_provider, jwt_algorithms=["ES256"])
    assert only_ec.verify(identity_provider.access_token(alg="ES256")).subject == "ann"
    assert "'RS256' is not accepted" in refused(only_ec, identity_provider.access_token())


def test_a_header_naming_the_wrong_algorithm_for_its_key_is_refused(
    identity_provider: IdentityProvider,
) -> None:
    """An ES256 token that names the RSA key's kid: the key decides the algorithm."""
    check = verifier(identity_provider)
    ec_key = identity_provider.keys["ES256"]
    token = identity_provider.access_token(key=ec_key, kid=identity_provider.keys["RS256"].kid)
    refused(check, token)


def test_the_rate_limiter_check_never_fetches_keys(identity_provider: IdentityProvider) -> None:
    check = verifier(identity_provider)
    token = identity_provider.access_token()
    assert check.cached_principal(token) is None
    assert identity_provider.jwks_requests == 0
    check.verify(token)
    principal = check.cached_principal(token)
    assert principal is not None and principal.subject == "ann"
    assert check.cached_principal(identity_provider.access_token(aud="another-api")) is None
    assert identity_provider.jwks_requests == 1
