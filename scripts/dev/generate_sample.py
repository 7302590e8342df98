"""Generate the bundled demo sample: a few thousand tweets in X API v2 filtered-stream message form.

Source texts: the 4,200 human-rated tweets of Hutto & Gilbert (ICWSM 2014), shipped in the MIT-licensed
vaderSentiment 3.3.2 source distribution (``additional_resources/hutto_ICWSM_2014.tar.gz``, file
``tweets_GroundTruth.txt``). Everything else (users, ids, times, hashtags, replies, retweets, quotes,
long note tweets, the non-English and undetermined-language texts) is synthesised here from a fixed seed,
so the same source gives a byte-identical file. See scripts/demo/data/PROVENANCE.md.

    python -m scripts.dev.generate_sample              # downloads the sdist with pip if it is missing
    python -m scripts.dev.generate_sample --check      # regenerate in memory and compare with the committed file
    python -m scripts.dev.generate_sample --bluesky [--check]   # the Bluesky replay sample (sample_bluesky.jsonl)

The Bluesky sample is the same generator's posts as Bluesky Jetstream commits (a DID per author, facets in UTF-8
byte ranges, replies and quotes as AT URIs; no retweets: a repost is no post), turned into envelope v1 lines by
the ingester's own builder (``ingester.envelope.from_bluesky_post``), so replaying it goes down the same path.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SDIST = REPO_ROOT / "build" / "sdist" / "vaderSentiment-3.3.2.tar.gz"
DEFAULT_OUT = REPO_ROOT / "scripts" / "demo" / "data" / "sample_tweets.jsonl"
BLUESKY_OUT = REPO_ROOT / "scripts" / "demo" / "data" / "sample_bluesky.jsonl"
BLUESKY_COUNT = 300
SDIST_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
INNER_TARBALL = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
SOURCE_MEMBER = "hutto_ICWSM_2014/tweets_GroundTruth.txt"
SOURCE_SHA256 = "dfbe7102e2f92579ed8b19df9a3822491880697c67adf712fb66e520cc05102f"
DEFAULT_COUNT = 3000
DEFAULT_SEED = 2014
START = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
TWITTER_EPOCH_MS = 1288834974657
MAX_TEXT = 280

# Filtered-stream rules the sample pretends to match; each rule tag owns a few hashtags.
RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tech": ("1861000000000000001", ("python", "aws", "opensource", "devops", "ai", "linux")),
    "sports": ("1861000000000000002", ("nba", "worldcup", "mets", "football", "marathon")),
    "music": ("1861000000000000003", ("nowplaying", "music", "concert", "newmusic")),
    "food": ("1861000000000000004", ("coffee", "foodie", "brunch", "pizza")),
    "travel": ("1861000000000000005", ("travel", "wanderlust", "roadtrip")),
    "life": ("1861000000000000006", ("mondaymotivation", "gratitude", "tbt", "weekend", "fb")),
}

# Hand-written short texts for the non-English share (authored for this sample, not translations of the
# source). Each language: positive, negative and neutral phrases that the generator combines.
# fmt: off
FOREIGN: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "es": (
        ("¡Qué día tan bonito!", "Me encanta este café", "Gracias a todos por el apoyo",
         "El concierto de anoche fue increíble", "Por fin viernes, ¡a disfrutar!", "Qué buena noticia"),
        ("Odio los lunes", "Otra vez sin internet, qué desastre", "El tráfico hoy es horrible",
         "Estoy harto de esperar", "Qué partido tan malo", "Me siento fatal hoy"),
        ("Mañana salgo temprano para Madrid", "¿Alguien sabe a qué hora abre la tienda?",
         "Leyendo las noticias de hoy", "Reunión a las diez", "Nuevo artículo en el blog"),
    ),
    "fr": (
        ("Quelle belle journée !", "J'adore ce nouveau café", "Merci à tous pour votre soutien",
         "Le concert d'hier soir était génial", "Enfin le week-end !", "Très bonne nouvelle"),
        ("Je déteste les lundis", "Encore une panne, quelle galère", "Le métro est en retard, c'est nul",
         "J'en ai marre d'attendre", "Quel match décevant", "Journée horrible"),
        ("Demain je pars tôt pour Lyon", "Quelqu'un sait à quelle heure ouvre la boutique ?",
         "Je lis les infos du jour", "Réunion à dix heures", "Nouvel article sur le blog"),
    ),
    "de": (
        ("Was für ein schöner Tag!", "Ich liebe diesen Kaffee", "Danke an alle für die Unterstützung",
         "Das Konzert gestern war großartig", "Endlich Wochenende!", "Super Neuigkeiten"),
        ("Ich hasse Montage", "Schon wieder kein Internet, furchtbar", "Der Zug hat wieder Verspätung",
         "Ich habe keine Lust mehr zu warten", "Was für ein schlechtes Spiel", "Heute ist ein mieser Tag"),
        ("Morgen fahre ich früh nach Berlin", "Weiß jemand, wann der Laden öffnet?",
         "Ich lese gerade die Nachrichten", "Besprechung um zehn Uhr", "Neuer Artikel im Blog"),
    ),
    "pt": (
        ("Que dia lindo!", "Adoro este café", "Obrigado a todos pelo apoio",
         "O show de ontem foi incrível", "Finalmente sexta-feira!", "Que notícia boa"),
        ("Odeio segundas-feiras", "De novo sem internet, que droga", "O trânsito hoje está horrível",
         "Cansei de esperar", "Que jogo ruim", "Estou me sentindo péssimo"),
        ("Amanhã viajo cedo para Lisboa", "Alguém sabe a que horas a loja abre?",
         "Lendo as notícias de hoje", "Reunião às dez", "Novo artigo no blog"),
    ),
    "ja": (
        ("今日はとても楽しかった！", "新しいカフェ最高☕", "応援ありがとうございます", "ライブ最高でした！",
         "このラーメン美味しい", "やっと週末だ！"),
        ("電車が遅れてつらい", "雨ばかりで残念", "疲れた…", "また寝坊した、最悪", "試合に負けて悔しい"),
        ("明日は東京で会議です", "週末は京都へ行きます", "今ニュースを読んでいます", "十時から打ち合わせ",
         "ブログを更新しました"),
    ),
}
EMOJI = ("😂", "🔥", "👍", "❤️", "💯", "🙌", "😭", "🎉", "☕", "⚽")
FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kai", "Lena", "Marco",
    "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe",
)
LAST_NAMES = (
    "Adams", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Khan",
    "Lopez", "Moreau", "Novak", "Okafor", "Patel", "Rossi", "Silva", "Tanaka", "Ueda", "Vargas", "Weber",
)
# fmt: on
HANDLE_WORDS = ("dev", "fan", "daily", "codes", "runs", "eats", "travels", "music", "news", "hq", "io", "life")

URL_RE = re.compile(r"https?://url_removed")
WORD_RE = re.compile(r"[A-Za-z]{2,}")
HASHTAG_RE = re.compile(r"(?<![\w&])#(\w*[^\W\d_]\w*)")
MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")
TCO_RE = re.compile(r"https://t\.co/\w+")

# X's annotations, imitated so the demo shows entities and topics (docs/design.md §2.1): a small gazetteer of names
# found in the source and foreign texts becomes ``entities.annotations``, and a tweet carrying one of its rule's
# hashtags gets that rule's ``context_annotations``. Derived from the text alone (no random draws), so adding them
# left every other byte of the sample as it was. The ids and probabilities are made up, in X's shape.
# fmt: off
GAZETTEER: dict[str, tuple[str, float]] = {
    "Google": ("Organization", 0.88), "Twitter": ("Organization", 0.81), "Dayquil": ("Product", 0.67),
    "iPhone": ("Product", 0.93), "Christmas": ("Other", 0.72), "Halloween": ("Other", 0.7),
    "Madrid": ("Place", 0.94), "Lyon": ("Place", 0.9), "Berlin": ("Place", 0.95), "Lisboa": ("Place", 0.91),
    "東京": ("Place", 0.92), "京都": ("Place", 0.9), "Michael": ("Person", 0.58),
}
GAZETTEER_RE = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, GAZETTEER)) + r")(?!\w)")
TOPIC_ANNOTATIONS: dict[str, tuple[tuple[tuple[str, str], tuple[str, str]], ...]] = {
    "tech": ((("66", "Interests and Hobbies Category"), ("848920371311001600", "Technology")),
             (("131", "Unified Twitter Taxonomy"), ("1301560543434153984", "Software development"))),
    "sports": ((("11", "Sport"), ("711159190043070464", "Basketball")),
               (("131", "Unified Twitter Taxonomy"), ("847900493514891265", "Sports"))),
    "music": ((("54", "Musician"), ("1088501256208916480", "Music news")),
              (("131", "Unified Twitter Taxonomy"), ("847872416688672768", "Music"))),
    "food": ((("152", "Food"), ("825047692124442624", "Food")),
             (("131", "Unified Twitter Taxonomy"), ("839543390668673024", "Coffee"))),
    "travel": ((("65", "Interests and Hobbies Vertical"), ("847888632711061504", "Travel")),),
    "life": ((("131", "Unified Twitter Taxonomy"), ("1196446161223028736", "Motivation")),),
}
# fmt: on


def entity_annotations(text: str) -> list[dict[str, Any]]:
    """``entities.annotations`` for the gazetteer names in ``text`` (start/end inclusive, as X sends them)."""
    out = []
    for m in GAZETTEER_RE.finditer(text):
        kind, probability = GAZETTEER[m.group(1)]
        out.append({"start": m.start(), "end": m.end() - 1, "probability": probability, "type": kind,
                    "normalized_text": m.group(1)})  # fmt: skip
    return out


def context_annotations(topic: str, hashtags: Sequence[str]) -> list[dict[str, Any]]:
    """The rule's topics when the tweet carries one of the rule's hashtags (X annotates only some posts)."""
    if not {tag.lower() for tag in hashtags} & set(RULES[topic][1]):
        return []
    return [{"domain": {"id": d_id, "name": d_name}, "entity": {"id": e_id, "name": e_name}}
            for (d_id, d_name), (e_id, e_name) in TOPIC_ANNOTATIONS[topic]]  # fmt: skip


@dataclass(frozen=True)
class SourceTweet:
    """One line of tweets_GroundTruth.txt: id, mean human rating (-4..4), text."""

    source_id: str
    rating: float
    text: str


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str
    followers_count: int
    following_count: int
    tweet_count: int

    def as_include(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "username": self.username,
            "public_metrics": {
                "followers_count": self.followers_count,
                "following_count": self.following_count,
                "tweet_count": self.tweet_count,
                "listed_count": self.followers_count // 97,
            },
        }


def parse_source(raw: bytes) -> list[SourceTweet]:
    """Parse tweets_GroundTruth.txt (tab-separated id, rating, text; CRLF; ASCII)."""
    rows: list[SourceTweet] = []
    for lineno, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        if len(parts) != 3:
            raise ValueError(f"source line {lineno}: expected 3 tab-separated fields, got {len(parts)}")
        rows.append(SourceTweet(parts[0].strip(), float(parts[1]), parts[2].strip()))
    return rows


def load_source_from_sdist(sdist: Path) -> bytes:
    """Extract tweets_GroundTruth.txt from the sdist (a tarball inside a tarball), verifying both hashes."""
    data = sdist.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SDIST_SHA256:
        raise ValueError(f"{sdist}: sha256 {digest} is not the vaderSentiment 3.3.2 sdist ({SDIST_SHA256})")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as outer:
        inner_member = outer.extractfile(INNER_TARBALL)
        if inner_member is None:
            raise ValueError(f"{sdist}: {INNER_TARBALL} is missing")
        with tarfile.open(fileobj=io.BytesIO(inner_member.read()), mode="r:gz") as inner:
            member = inner.extractfile(SOURCE_MEMBER)
            if member is None:
                raise ValueError(f"{sdist}: {SOURCE_MEMBER} is missing from {INNER_TARBALL}")
            raw = member.read()
    if hashlib.sha256(raw).hexdigest() != SOURCE_SHA256:
        raise ValueError(f"{SOURCE_MEMBER}: unexpected content (sha256 mismatch)")
    return raw


def download_sdist(dest_dir: Path) -> None:
    dest_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "vaderSentiment==3.3.2", "--no-binary", ":all:", "--no-deps"]
    subprocess.run([*cmd, "-d", str(dest_dir)], check=True)


class Generator:
    """Builds stream messages from source tweets. All randomness comes from one seeded ``random.Random``."""

    def __init__(self, source: Sequence[SourceTweet], seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not security
        self.source = [s for s in source if self._usable(s.text)]
        if not self.source:
            raise ValueError("no usable source texts")
        self.users = self._make_users(600)
        self.clock = START
        self.seq = 0
        self.emitted: list[dict[str, Any]] = []  # data objects already produced (for replies/retweets/quotes)

    @staticmethod
    def _usable(text: str) -> bool:
        """Keep texts that still have words once mentions and URLs are removed (VADER needs something)."""
        stripped = URL_RE.sub("", text.replace("@anonymous", ""))
        return len(WORD_RE.findall(stripped)) >= 2 and len(text) <= 200

    def _make_users(self, count: int) -> list[User]:
        users: list[User] = []
        seen: set[str] = set()
        while len(users) < count:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            style = self.rng.randrange(3)
            if style == 0:
                handle = f"{first.lower()}_{last.lower()}"
            elif style == 1:
                handle = f"{first.lower()}{self.rng.choice(HANDLE_WORDS)}{self.rng.randrange(10, 99)}"
            else:
                handle = f"{last.lower()}{first[0].lower()}{self.rng.randrange(1, 9999)}"
            handle = handle[:15]
            if handle in seen:
                continue
            seen.add(handle)
            followers = int(self.rng.paretovariate(1.1) * 40) - 40
            users.append(
                User(
                    id=str(self.rng.randrange(10**8, 10**18)),
                    username=handle,
                    name=f"{first} {last}",
                    followers_count=min(followers, 5_000_000),
                    following_count=self.rng.randrange(0, 3000),
                    tweet_count=self.rng.randrange(1, 60000),
                )
            )
        return users

    # -- ids, times, entities -------------------------------------------------------------------------

    def _next_time_and_id(self) -> tuple[str, str]:
        self.clock += timedelta(milliseconds=int(self.rng.expovariate(1 / 700)) + 1)
        ms = int(self.clock.timestamp() * 1000)
        self.seq += 1
        tweet_id = ((ms - TWITTER_EPOCH_MS) << 22) | (self.rng.randrange(32) << 17) | (self.seq % 4096)
        created = self.clock.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.clock.microsecond // 1000:03d}Z"
        return created, str(tweet_id)

    def _tco(self) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return "https://t.co/" + "".join(self.rng.choice(alphabet) for _ in range(10))

    def _fill_placeholders(self, text: str) -> str:
        text = URL_RE.sub(lambda _m: self._tco(), text)
        return re.sub(r"@anonymous", lambda _m: "@" + self.rng.choice(self.users).username, text)

    def _entities(self, text: str, url_targets: dict[str, str]) -> dict[str, Any]:
        """X v2 entities with start/end in Unicode code points (Python str indices)."""
        by_name = {u.username.lower(): u for u in self.users}
        entities: dict[str, Any] = {}
        hashtags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in HASHTAG_RE.finditer(text)]
        mentions = []
        for m in MENTION_RE.finditer(text):
            mention: dict[str, Any] = {"start": m.start(), "end": m.end(), "username": m.group(1)}
            user = by_name.get(m.group(1).lower())
            if user is not None:
                mention["id"] = user.id
            mentions.append(mention)
        urls = []
        for m in TCO_RE.finditer(text):
            expanded = url_targets.get(m.group(0)) or f"https://example.org/p/{m.group(0)[-10:].lower()}"
            display = expanded.removeprefix("https://")
            urls.append(
                {
                    "start": m.start(),
                    "end": m.end(),
                    "url": m.group(0),
                    "expanded_url": expanded,
                    "display_url": display if len(display) <= 30 else display[:29] + "…",
                }
            )
        found = entity_annotations(text)
        if found:
            entities["annotations"] = found
        if hashtags:
            entities["hashtags"] = hashtags
        if mentions:
            entities["mentions"] = mentions
        if urls:
            entities["urls"] = urls
        return entities

    # -- texts ----------------------------------------------------------------------------------------

    def _decorate(self, text: str, topic: str) -> str:
        """Sometimes add topical hashtags or an emoji, never beyond 280 characters."""
        roll = self.rng.random()
        tags = RULES[topic][1]
        if roll < 0.30:
            extra = " " + " ".join("#" + t for t in self.rng.sample(tags, k=self.rng.choice((1, 1, 2))))
        elif roll < 0.40:
            extra = " " + self.rng.choice(EMOJI)
        else:
            extra = ""
        return text + extra if len(text) + len(extra) <= MAX_TEXT else text

    def _english(self) -> str:
        return self._fill_placeholders(self.rng.choice(self.source).text)

    def _foreign(self, lang: str, topic: str) -> str:
        pos, neg, neu = FOREIGN[lang]
        pool = self.rng.choice((pos, neg, neu))
        parts = [self.rng.choice(pool)]
        if self.rng.random() < 0.5:
            parts.append(self.rng.choice(self.rng.choice((pos, neg, neu))))
        sep = "" if lang == "ja" else " "
        text = sep.join(parts)
        if self.rng.random() < 0.25:
            text = "@" + self.rng.choice(self.users).username + " " + text
        return self._decorate(text, topic)

    def _undetermined(self) -> str:
        kind = self.rng.randrange(3)
        if kind == 0:
            return "".join(self.rng.choice(EMOJI) for _ in range(self.rng.randrange(1, 5)))
        if kind == 1:
            return self._tco()
        return " ".join("@" + self.rng.choice(self.users).username for _ in range(self.rng.randrange(1, 3)))

    # -- messages -------------------------------------------------------------------------------------

    def _pick_lang(self) -> str:
        roll = self.rng.random()
        for lang, upper in (("en", 0.82), ("es", 0.87), ("fr", 0.90), ("de", 0.93), ("pt", 0.96), ("ja", 0.98)):
            if roll < upper:
                return lang
        return "und"

    def _body(self, lang: str, topic: str) -> str:
        return self._decorate(self._english(), topic) if lang == "en" else self._foreign(lang, topic)

    def _text(self, lang: str, topic: str, data: dict[str, Any], url_targets: dict[str, str]) -> tuple[str, str | None]:
        """The tweet's text (and note_tweet text for long posts); sets referenced_tweets on ``data``."""
        if lang == "und":
            return self._undetermined(), None
        kind_roll = self.rng.random()
        earlier = [d for d in self.emitted[-400:] if d["lang"] == lang]
        if kind_roll < 0.34 and earlier:
            original = self.rng.choice(earlier)
            refs = original.get("referenced_tweets") or [{}]
            if refs[0].get("type") == "retweeted":
                # A retweet of a retweet (or a reply to one) points at the original post, as on X.
                same = [d for d in earlier if d["id"] == refs[0]["id"]]
                original = (
                    same[0]
                    if same
                    else self.rng.choice(
                        [d for d in earlier if d.get("referenced_tweets", [{}])[0].get("type") != "retweeted"]
                        or earlier
                    )
                )
            orig_author = next(u for u in self.users if u.id == original["author_id"])
            if kind_roll < 0.16:
                # Retweet: X sends "RT @user: <original text>", truncated, with the original referenced.
                text = f"RT @{orig_author.username}: {original['text']}"
                data["referenced_tweets"] = [{"type": "retweeted", "id": original["id"]}]
                return (text if len(text) <= 140 else text[:139].rstrip() + "…"), None
            if kind_roll < 0.28:
                body = self._body(lang, topic)
                prefix = f"@{orig_author.username} "
                data["referenced_tweets"] = [{"type": "replied_to", "id": original["id"]}]
                data["in_reply_to_user_id"] = orig_author.id
                data["conversation_id"] = original["conversation_id"]
                return (body if body.startswith(prefix) else prefix + body), None
            link = self._tco()
            url_targets[link] = f"https://x.com/{orig_author.username}/status/{original['id']}"
            data["referenced_tweets"] = [{"type": "quoted", "id": original["id"]}]
            return f"{self._body(lang, topic)} {link}", None
        if lang == "en" and kind_roll > 0.995:
            # Long post: the full text lives in note_tweet; "text" is the truncated preview.
            pieces = [self._english() for _ in range(self.rng.randrange(4, 9))]
            while len(" ".join(pieces)) <= MAX_TEXT:
                pieces.append(self._english())
            tags = " ".join("#" + t for t in self.rng.sample(RULES[topic][1], k=2))
            note_text = " ".join([*pieces, tags])
            return note_text[: MAX_TEXT - 1].rstrip() + "…", note_text
        return self._body(lang, topic), None

    def message(self) -> dict[str, Any]:
        topic = self.rng.choice(sorted(RULES))
        created_at, tweet_id = self._next_time_and_id()
        author = self.rng.choice(self.users)
        lang = self._pick_lang()
        data: dict[str, Any] = {"id": tweet_id, "author_id": author.id, "conversation_id": tweet_id}
        url_targets: dict[str, str] = {}
        text, note_text = self._text(lang, topic, data, url_targets)
        data["created_at"] = created_at
        data["lang"] = lang
        data["text"] = text
        entities = self._entities(text, url_targets)
        if entities:
            data["entities"] = entities
        topics = context_annotations(topic, [h["tag"] for h in entities.get("hashtags", [])])
        if topics:
            data["context_annotations"] = topics
        if note_text is not None:
            data["note_tweet"] = {"text": note_text, "entities": self._entities(note_text, {})}
        data["public_metrics"] = {
            "retweet_count": int(self.rng.expovariate(0.5)),
            "reply_count": int(self.rng.expovariate(1.0)),
            "like_count": int(self.rng.expovariate(0.2)),
            "quote_count": int(self.rng.expovariate(3.0)),
            "bookmark_count": int(self.rng.expovariate(2.0)),
            "impression_count": int(self.rng.expovariate(0.01)),
        }
        self.emitted.append(data)
        # A tweet matches its topic's rule, and now and then a second one too.
        tags = [topic]
        if self.rng.random() < 0.1:
            tags.append(self.rng.choice([t for t in sorted(RULES) if t != topic]))
        return {
            "data": data,
            "includes": {"users": [author.as_include()]},
            "matching_rules": [{"id": RULES[t][0], "tag": t} for t in tags],
        }

    def messages(self, count: int) -> Iterator[dict[str, Any]]:
        for _ in range(count):
            yield self.message()


def render_jsonl(source: Sequence[SourceTweet], count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> bytes:
    """The sample file's exact bytes: one compact JSON object per line, UTF-8, LF line ends."""
    gen = Generator(source, seed)
    out = io.StringIO()
    for message in gen.messages(count):
        out.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
    return out.getvalue().encode("utf-8")


def _did(author_id: str) -> str:
    return "did:plc:" + hashlib.sha256(author_id.encode()).hexdigest()[:24]


def _byte_range(text: str, item: dict[str, Any]) -> dict[str, int]:
    return {"byteStart": len(text[: item["start"]].encode()), "byteEnd": len(text[: item["end"]].encode())}


def jetstream_event(data: dict[str, Any], by_id: dict[str, dict[str, Any]], time_us: int) -> dict[str, Any]:
    """An X sample post as the Jetstream commit that would have created it on Bluesky."""
    text: str = data["text"]
    entities = data.get("entities") or {}
    facets = [
        {"index": _byte_range(text, h), "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": h["tag"]}]}
        for h in entities.get("hashtags", [])
    ] + [
        {
            "index": _byte_range(text, m),
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": _did(m.get("id", m["username"]))}],
        }
        for m in entities.get("mentions", [])
    ]
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": data["created_at"]}
    if data["lang"] != "und":
        record["langs"] = [data["lang"]]
    if facets:
        record["facets"] = facets
    for ref in data.get("referenced_tweets", []):
        target = by_id.get(ref["id"])
        if target is None:
            continue
        uri = f"at://{_did(target['author_id'])}/app.bsky.feed.post/{target['id']}"
        if ref["type"] == "replied_to":
            record["reply"] = {"root": {"uri": uri, "cid": "bafy"}, "parent": {"uri": uri, "cid": "bafy"}}
        elif ref["type"] == "quoted":
            record["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": uri, "cid": "bafy"}}
    return {
        "did": _did(data["author_id"]),
        "time_us": time_us,
        "kind": "commit",
        "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": data["id"], "record": record},
    }


def render_bluesky_jsonl(source: Sequence[SourceTweet], count: int = BLUESKY_COUNT, seed: int = DEFAULT_SEED) -> bytes:
    """The Bluesky sample's exact bytes: envelope v1 lines (``source: "bluesky"``), received 1 s after creation."""
    sys.path.insert(0, str(REPO_ROOT))
    from ingester.envelope import bluesky_post, from_bluesky_post

    gen = Generator(source, seed)
    by_id: dict[str, dict[str, Any]] = {}
    out = io.StringIO()
    written = 0
    while written < count:
        message = gen.message()
        data = message["data"]
        by_id[data["id"]] = data
        if data.get("referenced_tweets", [{}])[0].get("type") == "retweeted" or "note_tweet" in data:
            continue  # a repost is no post; Bluesky has no long-post preview
        created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
        post = bluesky_post(jetstream_event(data, by_id, int(created.timestamp() * 1_000_000)))
        assert post is not None
        received = (created + timedelta(seconds=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        terms = [rule["tag"] for rule in message["matching_rules"]]
        envelope = from_bluesky_post(*post, terms, received_at=received)
        out.write(json.dumps(envelope, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        written += 1
    return out.getvalue().encode("utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sdist", type=Path, default=DEFAULT_SDIST, help="vaderSentiment-3.3.2.tar.gz path")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSONL path")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="number of tweets (default 3000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 2014)")
    parser.add_argument("--no-download", action="store_true", help="fail instead of running pip download")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    parser.add_argument("--bluesky", action="store_true", help=f"the Bluesky sample ({BLUESKY_COUNT} posts by default)")
    args = parser.parse_args(argv)
    if args.bluesky and args.out == DEFAULT_OUT:
        args.out = BLUESKY_OUT
    if args.bluesky and args.count == DEFAULT_COUNT:
        args.count = BLUESKY_COUNT
    if args.count < 1:
        parser.error("--count must be at least 1")
    if not args.sdist.exists():
        if args.no_download:
            parser.error(f"{args.sdist} not found; run: pip download vaderSentiment==3.3.2 --no-binary :all: "
                         f"--no-deps -d {args.sdist.parent}")  # fmt: skip
        download_sdist(args.sdist.parent)
    render = render_bluesky_jsonl if args.bluesky else render_jsonl
    content = render(parse_source(load_source_from_sdist(args.sdist)), args.count, args.seed)
    digest = hashlib.sha256(content).hexdigest()
    if args.check:
        current = args.out.read_bytes() if args.out.exists() else b""
        if current != content:
            print(f"{args.out} differs from the regenerated sample (sha256 {digest})", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date (sha256 {digest})")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(content)
    print(f"wrote {args.count} tweets, {len(content)} bytes, sha256 {digest} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
