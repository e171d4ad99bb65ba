"""Secrets typed into the wrong place, and the secret parts of provider URLs.

Two jobs, both pure string work:

- :func:`secret_kind` finds a wallet secret anywhere inside a piece of text (a label, a network
  name, a URL, a setting, an API key's value): a BIP39 seed phrase (12 or more list words in a
  row, also numbered or comma separated), a 64-digit hex private key, a Solana secret key (64
  bytes in base58, or a keypair file's JSON array), an extended private key (xprv and kin) or a
  WIF private key. :func:`refuse_secret` turns a find into a :class:`SecretInputError` whose
  message names the field and never repeats the text.
- :func:`split_url_secrets` takes every documented API-key form out of a URL (``?apikey=``,
  ``?api-key=``, ``?api_key=``, ``?key=``, ``?token=``, ``/v2/<key>``, ``/v3/<key>``, a long
  key-like path segment, ``user:password@``), leaving ``{secret}`` marks, so the key can live in
  the keyring and the rest anywhere.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import base58

from app.domain.bip39_english import WORDS
from app.domain.errors import SecretInputError

SEED_PHRASE = "seed phrase"
PRIVATE_KEY = "private key"
SOLANA_KEY = "Solana secret key"
EXTENDED_KEY = "extended private key"
WIF_KEY = "private key (WIF)"

MIN_SEED_WORDS = 12
_LETTERS = re.compile(r"[A-Za-z]+")
# Between two words of a phrase: spaces, commas, numbering ("1." "2)"), dashes, or the
# percent-escapes and plus signs a URL turns spaces into.
_WORD_GAP = re.compile(r"^[\s,;.:()\[\]#\-+\d%\"']+$")
_HEX64 = re.compile(r"(?<![0-9A-Za-z])(?:0x)?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_B58 = "1-9A-HJ-NP-Za-km-z"
_BASE58_RUN = re.compile(rf"(?<![{_B58}])[{_B58}]{{50,120}}(?![{_B58}])")
_EXTENDED = re.compile(r"(?<![0-9A-Za-z])[xyztuvXYZTUV]prv[1-9A-HJ-NP-Za-km-z]{100,}")
_BYTE_LIST = re.compile(r"\d{1,3}(?:\s*,\s*\d{1,3}){31,}")


def _seed_run(text: str) -> bool:
    """Twelve or more BIP39 words in a row, whatever plain separators sit between them."""
    run = 0
    previous_end = -1
    for match in _LETTERS.finditer(text):
        word = match.group().lower()
        if word not in WORDS:
            run = 0
        elif run and _WORD_GAP.match(text[previous_end : match.start()]):
            run += 1
        else:
            run = 1
        previous_end = match.end()
        if run >= MIN_SEED_WORDS:
            return True
    return False


def _base58_kind(token: str) -> str | None:
    try:
        raw = base58.b58decode(token)
    except ValueError:
        return None
    if len(raw) == 64 and 80 <= len(token) <= 90:
        return SOLANA_KEY
    if 37 <= len(raw) <= 38 and raw[0] in (0x80, 0xEF):  # WIF: version, 32 bytes, [01], check
        try:
            base58.b58decode_check(token)
        except ValueError:
            return None
        return WIF_KEY
    return None


def _byte_array(text: str) -> bool:
    for match in _BYTE_LIST.finditer(text):
        values = [int(v) for v in re.findall(r"\d+", match.group())]
        if len(values) in (32, 64) and all(v <= 255 for v in values):
            return True
    return False


def secret_kind(text: str, *, allow_hex_key: bool = False) -> str | None:
    """What kind of wallet secret ``text`` holds anywhere inside it, or None.

    ``allow_hex_key`` accepts 64 hex digits: some providers' API keys look exactly like that,
    and a value already bound for the keyring may be one.
    """
    if not text:
        return None
    if _seed_run(text) or (("%" in text or "+" in text) and _seed_run(unquote_plus(text))):
        return SEED_PHRASE
    if not allow_hex_key and _HEX64.search(text):
        return PRIVATE_KEY
    if _EXTENDED.search(text):
        return EXTENDED_KEY
    for match in _BASE58_RUN.finditer(text):
        kind = _base58_kind(match.group())
        if kind is not None:
            return kind
    if _byte_array(text):
        return SOLANA_KEY
    return None


def refusal(kind: str, field: str) -> str:
    """The message for a refused secret: names the field, never the text."""
    article = "an" if kind[0] in "aeiou" else "a"
    return (
        f"The {field} looks like {article} {kind}. Chainfolio never needs it: it was not saved. "
        "Anyone who has it controls the funds: keep it offline."
    )


def refuse_secret(text: str, field: str, *, allow_hex_key: bool = False) -> None:
    """Raise SecretInputError naming ``field`` when ``text`` holds a wallet secret."""
    kind = secret_kind(text, allow_hex_key=allow_hex_key)
    if kind is not None:
        raise SecretInputError(refusal(kind, field))


REDACTED = "«redacted»"


def redact_secrets(text: str) -> str:
    """``text`` with every wallet secret and every URL key replaced (for error text and logs)."""
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(), REDACTED), text)
    if secret_kind(text) is None:
        return text
    text = _HEX64.sub(REDACTED, text)
    text = _EXTENDED.sub(REDACTED, text)
    text = _BASE58_RUN.sub(lambda m: REDACTED if _base58_kind(m.group()) else m.group(), text)
    text = _BYTE_LIST.sub(REDACTED, text)
    if _seed_run(text) or _seed_run(unquote_plus(text)):
        return REDACTED  # a phrase has no single shape to cut out: say nothing of the text
    return text


# ---------------------------------------------------------------- keys inside URLs

SECRET_MARK = "{secret}"
_MARKS = re.compile(r"\{secret(?::\d+)?\}")
SECRET_QUERY_NAMES = frozenset(
    {"apikey", "api-key", "api_key", "key", "token", "access_token", "auth", "secret", "x-api-key"}
)
_VERSION_SEGMENTS = frozenset({"v2", "v3"})
_KEYLIKE = re.compile(r"^[A-Za-z0-9_\-]{20,}$")
_PLACEHOLDER = "CHAINFOLIOSECRETMARK"
_URL_IN_TEXT = re.compile(r"\b(?:https?|wss?)://[^\s\"'<>]+", re.IGNORECASE)


def secret_mark(index: int) -> str:
    """The mark of the ``index``-th secret of one URL (the first keeps the historic form)."""
    return SECRET_MARK if index == 0 else f"{{secret:{index}}}"


def has_marks(template: str) -> bool:
    return bool(_MARKS.search(template))


def fill_marks(template: str, secrets: list[str]) -> str:
    """Put the secrets back into a template made by :func:`split_url_secrets`."""

    def value(match: re.Match[str]) -> str:
        mark = match.group()
        index = 0 if mark == SECRET_MARK else int(mark[len("{secret:") : -1])
        return secrets[index]

    return _MARKS.sub(value, template)


def mask_marks(template: str, mask: str) -> str:
    return _MARKS.sub(mask, template)


def _split_query(query: str, secrets: list[str]) -> str:
    parts = query.split("&") if query else []
    for i, part in enumerate(parts):
        name, sep, value = part.partition("=")
        if sep and value and name.lower() in SECRET_QUERY_NAMES:
            parts[i] = f"{name}={_PLACEHOLDER}{len(secrets)}"
            secrets.append(value)
    return "&".join(parts)


def _split_path(path: str, secrets: list[str]) -> str:
    segments = path.split("/")
    for i, segment in enumerate(segments):
        if not segment:
            continue
        last = not any(segments[i + 1 :])
        after_version = i > 0 and segments[i - 1].lower() in _VERSION_SEGMENTS
        if (after_version and last) or _KEYLIKE.match(segment):
            segments[i] = f"{_PLACEHOLDER}{len(secrets)}"
            secrets.append(segment)
    return "/".join(segments)


def split_url_secrets(url: str) -> tuple[str, list[str]]:
    """Return (template, secrets): each key-bearing part of the URL becomes a mark.

    Order: the ``user:password`` of basic auth, then key-like path segments, then key query
    values. A URL that cannot be parsed comes back whole with no secrets (callers validate
    URLs before storing them).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, []
    if not parts.scheme or not parts.netloc:
        return url, []  # not a URL: nothing in it is a provider key
    secrets: list[str] = []
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{_PLACEHOLDER}0@{hostport}"
        secrets.append(userinfo)
    path = _split_path(parts.path, secrets)
    query = _split_query(parts.query, secrets)
    if not secrets:
        return url, []
    template = urlunsplit(parts._replace(netloc=netloc, path=path, query=query))
    for index in range(len(secrets)):
        template = re.sub(rf"{_PLACEHOLDER}{index}(?!\d)", secret_mark(index), template)
    return template, secrets


def redact_url(url: str, mask: str = "***") -> str:
    """The URL with each key replaced by ``mask`` (for lists, logs and error text)."""
    template, secrets = split_url_secrets(url)
    return mask_marks(template, mask) if secrets else url


def refuse_url_secret(url: str, field: str) -> None:
    """Refuse a wallet secret anywhere in a URL. The key parts a provider puts in its URLs may
    be 64 hex digits (they go to the keyring); any other place may not."""
    template, secrets = split_url_secrets(url)
    refuse_secret(template, field)
    for secret in secrets:
        refuse_secret(secret, field, allow_hex_key=True)
