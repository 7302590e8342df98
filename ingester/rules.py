"""X filtered-stream rules from TRACKED_TERMS: build, diff against what X has, apply.

* One rule per term, tagged ``tsp:<term>`` (:data:`TAG_PREFIX` marks the rule as this ingester's; the
  envelope builder strips it, so each envelope's ``matching_rules`` tag and the documents' ``rules`` are
  the plain term), as long as the terms fit in X_MAX_RULES rules (25 on X API Basic).
* More terms than that: terms are packed into ``(a OR b OR "c d")`` rules of at most 1,024
  characters (X's rule length limit), tagged ``tsp:`` and their comma-joined terms.
* X_RULE_SUFFIX (for example ``-is:retweet lang:en``) is appended to every rule: precision saves money,
  X bills per post read.
* The app's rules may be shared with other tools (``make demo --live``, a colleague's script), so the sync
  only ever deletes rules whose tag carries :data:`TAG_PREFIX` (rules this ingester created) and that are
  stale or duplicates; every other rule is left alone. Rules created by versions before the marker
  (value and tag exactly a desired rule's, unmarked) are adopted: deleted and re-added with the marker,
  because X rejects a second rule with the same value, so old and new could not coexist.

Failure policy: every failed rules call raises a :class:`RulesError` subclass that carries the HTTP status and
X's error objects (tweepy's exceptions are caught where the call is made and turned into these, as tweepy's own
``errors.py`` types its HTTP errors). Callers branch on the type, never on the message text:
:data:`NOT_RETRYABLE` (401, 403, 400 and rules X rejects) means the configuration is wrong and retrying cannot
help; any other RulesError (429, 5xx, no network) is worth retrying. Whether a 401 may be retried after re-reading
the token is the caller's decision (ingester.sources.x).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingester.config import X_RULE_MAX_CHARS, ConfigError, Settings
from ingester.envelope import RULE_TAG_PREFIX

log = logging.getLogger(__name__)

MAX_TAG_CHARS = 255
#: Marks a rule's tag as created by this ingester; only such rules are ever deleted (envelope.py strips it).
TAG_PREFIX = RULE_TAG_PREFIX
_BARE = re.compile(r"[#@$]?[\w'-]+", re.UNICODE)


class RulesError(RuntimeError):
    """A rules request failed (the message says why and what to do); retrying may help.

    ``status`` is the HTTP status (None when X was not reached); ``api_errors`` are X's error objects, if any.
    """

    def __init__(self, message: str, *, status: int | None = None, api_errors: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.api_errors = tuple(api_errors)


class BadRequest(RulesError):
    """HTTP 400: X says the request is invalid (a malformed rule)."""


class RulesRejected(BadRequest):
    """X answered but rejected some of the rules added (``errors`` in a 2xx answer): invalid rules."""


class Unauthorized(RulesError):
    """HTTP 401: X rejected the bearer token."""


class Forbidden(RulesError):
    """HTTP 403: the app's project has no filtered-stream access."""


class TooManyRequests(RulesError):
    """HTTP 429: X's rate limit; ``reset_time`` (Unix seconds) when X said when it resets."""

    def __init__(self, message: str, *, reset_time: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reset_time = reset_time


#: Answers that say the configuration (token, access level, TRACKED_TERMS / X_RULE_SUFFIX) is wrong: retrying
#: the same request cannot succeed. An Unauthorized may still be retried by a caller that can re-read the token.
NOT_RETRYABLE: tuple[type[RulesError], ...] = (Unauthorized, Forbidden, BadRequest)


@dataclass(frozen=True)
class Rule:
    value: str
    tag: str | None
    id: str | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.value, self.tag)


@dataclass(frozen=True)
class RulesDiff:
    add: tuple[Rule, ...]
    delete: tuple[Rule, ...]
    keep: tuple[Rule, ...]
    #: Rules not created by this ingester: left alone.
    foreign: tuple[Rule, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.add and not self.delete


def quote_term(term: str) -> str:
    """A term as a rule operand: bare words, #hashtags, @mentions and $cashtags as is; anything else quoted."""
    term = term.strip()
    if _BARE.fullmatch(term) and term.upper() not in {"OR", "AND"}:
        return term
    return '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _with_suffix(body: str, suffix: str) -> str:
    return f"{body} {suffix}" if suffix else body


def _tag(terms: Sequence[str]) -> str:
    tag = ",".join(terms)
    room = MAX_TAG_CHARS - len(TAG_PREFIX)
    return TAG_PREFIX + (tag if len(tag) <= room else tag[: room - 1] + "…")


def is_ours(rule: Rule) -> bool:
    """Whether this ingester created the rule (its tag carries :data:`TAG_PREFIX`)."""
    return rule.tag is not None and rule.tag.startswith(TAG_PREFIX)


def plain_tag(tag: str | None) -> str | None:
    """A rule tag without this ingester's ownership marker (what envelopes and documents carry)."""
    return tag[len(TAG_PREFIX) :] if tag is not None and tag.startswith(TAG_PREFIX) else tag


def desired_rules(terms: Sequence[str], *, suffix: str = "", max_rules: int = 25) -> list[Rule]:
    """Rules for the tracked terms; raises ConfigError (naming TRACKED_TERMS) when they cannot fit."""
    suffix = suffix.strip()
    unique = list(dict.fromkeys(t.strip() for t in terms if t.strip()))
    if not unique:
        raise ConfigError("TRACKED_TERMS is empty")
    for term in unique:
        if len(_with_suffix(quote_term(term), suffix)) > X_RULE_MAX_CHARS:
            raise ConfigError(
                f"TRACKED_TERMS term {term[:40]!r}... makes a rule longer than {X_RULE_MAX_CHARS} characters "
                "(with X_RULE_SUFFIX)"
            )
    if len(unique) <= max_rules:
        return [Rule(_with_suffix(quote_term(t), suffix), _tag([t])) for t in unique]
    groups: list[list[str]] = []
    for term in unique:
        if groups and len(_group_value(groups[-1] + [term], suffix)) <= X_RULE_MAX_CHARS:
            groups[-1].append(term)
        else:
            groups.append([term])
    if len(groups) > max_rules:
        raise ConfigError(
            f"TRACKED_TERMS needs {len(groups)} rules of at most {X_RULE_MAX_CHARS} characters, but X_MAX_RULES is "
            f"{max_rules}: track fewer terms or raise X_MAX_RULES to your X access level's rule limit"
        )
    return [Rule(_group_value(g, suffix), _tag(g)) for g in groups]


def _group_value(terms: Sequence[str], suffix: str) -> str:
    operands = [quote_term(t) for t in terms]
    body = operands[0] if len(operands) == 1 else "(" + " OR ".join(operands) + ")"
    return _with_suffix(body, suffix)


def diff_rules(current: Sequence[Rule], desired: Sequence[Rule]) -> RulesDiff:
    """What to add and delete so that X has the desired rules (value and tag).

    Only rules this ingester created (tag with :data:`TAG_PREFIX`) are deleted when stale or duplicated, plus
    unmarked rules from older versions that are exactly a desired rule without the marker (re-added marked).
    Every other rule is foreign and lands in ``foreign``: never deleted.
    """
    wanted = {r.key for r in desired}
    legacy = {(r.value, plain_tag(r.tag)) for r in desired}
    seen: set[tuple[str, str | None]] = set()
    keep: list[Rule] = []
    delete: list[Rule] = []
    foreign: list[Rule] = []
    for rule in current:
        if rule.key in wanted and rule.key not in seen:
            keep.append(rule)
            seen.add(rule.key)
        elif is_ours(rule) or rule.key in legacy:
            delete.append(rule)
        else:
            foreign.append(rule)
    add = [r for r in desired if r.key not in seen]
    return RulesDiff(tuple(add), tuple(delete), tuple(keep), tuple(foreign))


def _describe_errors(errors: Any) -> str:
    if not errors:
        return ""
    parts = []
    for err in errors if isinstance(errors, list) else [errors]:
        if isinstance(err, dict):
            parts.append(
                "; ".join(str(err.get(k)) for k in ("title", "value", "details", "detail", "message") if err.get(k))
            )
        else:
            parts.append(str(err))
    return " | ".join(parts)[:500]


def _details(exc: Any) -> dict[str, Any]:
    """The HTTP status and X's error objects of a tweepy ``HTTPException``."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return {"status": status if isinstance(status, int) else None, "api_errors": list(exc.api_errors or [])}


class RulesClient:
    """Rules calls through tweepy's StreamingClient (X_API_BASE_URL-aware)."""

    def __init__(self, streaming_client: Any) -> None:
        self._client = streaming_client

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        import requests
        import tweepy

        try:
            return func(*args, **kwargs)
        except tweepy.Unauthorized as exc:
            raise Unauthorized(
                f"{what}: X rejected the bearer token (401); check X_BEARER_TOKEN(_SSM_PARAMETER)", **_details(exc)
            ) from None
        except tweepy.Forbidden as exc:
            raise Forbidden(
                f"{what}: X refused (403: {_describe_errors(exc.api_errors) or exc}); the app's project needs "
                "filtered-stream access",
                **_details(exc),
            ) from None
        except tweepy.TooManyRequests as exc:
            raise TooManyRequests(
                f"{what}: X rate limit (429); wait a few minutes", reset_time=exc.reset_time, **_details(exc)
            ) from None
        except tweepy.BadRequest as exc:
            raise BadRequest(
                f"{what}: X says the request is invalid: {_describe_errors(exc.api_errors)}", **_details(exc)
            ) from None
        except tweepy.HTTPException as exc:
            raise RulesError(f"{what}: {type(exc).__name__}: {str(exc)[:300]}", **_details(exc)) from None
        except tweepy.TweepyException as exc:
            raise RulesError(f"{what}: {type(exc).__name__}: {str(exc)[:300]}") from None
        except requests.RequestException as exc:
            raise RulesError(f"{what}: cannot reach X ({type(exc).__name__})") from None

    def list(self) -> list[Rule]:
        response = self._call("listing rules", self._client.get_rules)
        return [Rule(r.value, getattr(r, "tag", None), str(r.id)) for r in (response.data or [])]

    def apply(self, diff: RulesDiff) -> None:
        if diff.delete:
            ids = [r.id for r in diff.delete if r.id is not None]
            response = self._call("deleting rules", self._client.delete_rules, ids)
            if getattr(response, "errors", None):
                raise RulesError(f"deleting rules: {_describe_errors(response.errors)}", api_errors=response.errors)
            log.info("deleted %d stale X rule(s)", len(ids))
        if diff.add:
            import tweepy

            adds = [tweepy.StreamRule(value=r.value, tag=r.tag) for r in diff.add]
            response = self._call("adding rules", self._client.add_rules, adds)
            if getattr(response, "errors", None):
                raise RulesRejected(
                    f"adding rules: X rejected some rules: {_describe_errors(response.errors)}",
                    api_errors=response.errors,
                )
            log.info("added %d X rule(s)", len(adds))

    def sync(self, desired: Sequence[Rule]) -> RulesDiff:
        diff = diff_rules(self.list(), desired)
        if diff.foreign:
            log.info("%d stream rule(s) not created by this ingester are left alone", len(diff.foreign))
        if diff.empty:
            log.info("X stream rules in sync (%d rule(s))", len(desired))
        else:
            self.apply(diff)
        return diff


def make_rules_client(settings: Settings, token: str) -> RulesClient:
    from ingester.xclient import XStreamingClient

    return RulesClient(XStreamingClient(token, base_url=settings.x_api_base_url))


def _term_pattern(term: str) -> str:
    """A term as a case-insensitive whole-word pattern: a phrase matches with any whitespace between its words."""
    words = term.split()
    return r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"


class TermMatcher:
    """TRACKED_TERMS matched locally, for sources without server-side rules (Bluesky's Jetstream).

    The same terms as the X rules (:func:`desired_rules`): a word matches as a whole word (``aws`` matches
    ``AWS``, ``#aws`` and ``aws.``, not ``laws``), a ``#hashtag`` or ``@mention`` matches that token (``@alice``
    also matches ``@alice.bsky.social``: the handle's first label), a phrase matches its words in order with any
    whitespace between them. Case-insensitive. One combined regular expression rejects non-matching text in one
    scan; only a hit is attributed to its terms.
    """

    def __init__(self, terms: Sequence[str]) -> None:
        unique = list(dict.fromkeys(" ".join(t.split()) for t in terms if t.strip()))
        if not unique:
            raise ConfigError("TRACKED_TERMS is empty")
        self.terms = tuple(unique)
        by_length = sorted(unique, key=len, reverse=True)
        self._any = re.compile("|".join(_term_pattern(t) for t in by_length), re.IGNORECASE)
        self._each = [(term, re.compile(_term_pattern(term), re.IGNORECASE)) for term in unique]

    def matches(self, text: str) -> list[str]:
        """The tracked terms ``text`` matches, in TRACKED_TERMS order (empty: not tracked)."""
        if self._any.search(text) is None:
            return []
        return [term for term, pattern in self._each if pattern.search(text)]
