"""Every analysis stage over a batch of posts: language, sentiment, intents, hostility,
near-duplicates and author influence. Used by the ingest pipeline, `clameur analyze` and
`clameur reanalyze`; each result carries its stage's name and version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from clameur.nlp import duplicates, hostility, influence, intent, language, sentiment

# Posts a near-duplicate detector remembers (per workspace); older originals are forgotten.
DUPLICATE_MEMORY = 200_000


@dataclass(slots=True)
class PostText:
    """What the analysis reads of a post; fields the source already knows are kept as given."""

    key: str
    text: str
    lang: str | None = None
    followers: int = 0
    verified: bool = False
    metrics: dict[str, int] | None = None
    sentiment: str | None = None
    intents: list[str] | None = None


@dataclass(slots=True)
class Analysis:
    """The results for one post, and the enrichment record stored with it."""

    lang: str | None = None
    sentiment: str | None = None
    sentiment_score: float | None = None
    intents: list[str] = field(default_factory=list)
    hostile: bool | None = None
    hostility_score: float | None = None
    duplicate_of: str | None = None
    influence: float | None = None
    enrichments: dict[str, Any] = field(default_factory=dict)


def versions() -> dict[str, str]:
    """The name and version of each stage, as recorded with its results."""
    return {
        language.ENRICHER_NAME: language.ENRICHER_VERSION,
        sentiment.ENRICHER_NAME: sentiment.ENRICHER_VERSION,
        intent.ENRICHER_NAME: intent.ENRICHER_VERSION,
        hostility.ENRICHER_NAME: hostility.ENRICHER_VERSION,
        duplicates.ENRICHER_NAME: duplicates.ENRICHER_VERSION,
        influence.ENRICHER_NAME: influence.ENRICHER_VERSION,
    }


STAGES: tuple[str, ...] = (
    language.ENRICHER_NAME,
    sentiment.ENRICHER_NAME,
    intent.ENRICHER_NAME,
    hostility.ENRICHER_NAME,
    duplicates.ENRICHER_NAME,
    influence.ENRICHER_NAME,
)
# What a deferred analysis runs at ingest time; `clameur reanalyze` adds the other stages.
LANGUAGE_ONLY: tuple[str, ...] = (language.ENRICHER_NAME,)


def _predict_some(
    model: Callable[[list[str], list[str | None]], Sequence[Any]],
    todo: list[int],
    texts: list[str],
    langs: list[str | None],
) -> dict[int, Any]:
    """A model's predictions for the posts at positions `todo` only, by position."""
    found = model([texts[i] for i in todo], [langs[i] for i in todo])
    return dict(zip(todo, found, strict=True))


class Analyzer:
    """Runs the stages over batches; keeps the near-duplicate memory between batches.

    `stages` limits the work to some stages (language always runs: matching needs it); the
    stages left out record nothing, so `clameur reanalyze` completes them later."""

    def __init__(
        self,
        detector: duplicates.DuplicateDetector | None = None,
        stages: Sequence[str] = STAGES,
    ) -> None:
        unknown = set(stages) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown analysis stages: {', '.join(sorted(unknown))}")
        self.stages = frozenset(stages) | {language.ENRICHER_NAME}
        self.detector = detector or duplicates.DuplicateDetector(capacity=DUPLICATE_MEMORY)

    def analyze(self, posts: Sequence[PostText]) -> list[Analysis]:
        """Analyse a batch; results are in the order of the posts."""
        results = [Analysis() for _ in posts]
        texts = [post.text for post in posts]
        self._language(posts, results)
        langs = [result.lang for result in results]
        stages = self.stages
        # What the source said (sentiment, intents) is recorded even when the stage is left out.
        self._sentiment(posts, texts, langs, results, sentiment.ENRICHER_NAME in stages)
        self._intents(posts, texts, langs, results, intent.ENRICHER_NAME in stages)
        if hostility.ENRICHER_NAME in stages:
            self._hostility(texts, langs, results)
        if duplicates.ENRICHER_NAME in stages:
            self._duplicates(posts, results)
        if influence.ENRICHER_NAME in stages:
            self._influence(posts, results)
        return results

    @staticmethod
    def _hostility(texts: list[str], langs: list[str | None], results: list[Analysis]) -> None:
        for result, (hostile, score) in zip(
            results, hostility.predict_hostility(texts, langs), strict=True
        ):
            result.hostile, result.hostility_score = hostile, round(float(score), 4)
            result.enrichments[hostility.ENRICHER_NAME] = {
                "version": hostility.ENRICHER_VERSION,
                "value": hostile,
                "score": result.hostility_score,
            }

    def _duplicates(self, posts: Sequence[PostText], results: list[Analysis]) -> None:
        originals = self.detector.check_many([(post.key, post.text) for post in posts])
        for post, result, original in zip(posts, results, originals, strict=True):
            # A post seen again (a retried batch) is not a duplicate of itself.
            result.duplicate_of = original if original != post.key else None
            result.enrichments[duplicates.ENRICHER_NAME] = {
                "version": duplicates.ENRICHER_VERSION,
                "value": result.duplicate_of,
            }

    @staticmethod
    def _influence(posts: Sequence[PostText], results: list[Analysis]) -> None:
        for post, result in zip(posts, results, strict=True):
            found = influence.influence(post.followers, post.verified, post.metrics)
            result.influence = round(found.score, 2)
            result.enrichments[influence.ENRICHER_NAME] = {
                "version": influence.ENRICHER_VERSION,
                "value": result.influence,
                "reasons": found.reasons,
            }

    @staticmethod
    def _language(posts: Sequence[PostText], results: list[Analysis]) -> None:
        todo = [i for i, post in enumerate(posts) if not post.lang]
        detected = language.detect_languages([posts[i].text for i in todo])
        for i, (lang, score) in zip(todo, detected, strict=True):
            results[i].lang = lang
            results[i].enrichments[language.ENRICHER_NAME] = {
                "version": language.ENRICHER_VERSION,
                "value": lang,
                "score": round(float(score), 4),
            }
        for post, result in zip(posts, results, strict=True):
            if post.lang:
                result.lang = post.lang
                result.enrichments[language.ENRICHER_NAME] = {
                    "version": "source",
                    "value": post.lang,
                }

    @staticmethod
    def _sentiment(
        posts: Sequence[PostText],
        texts: list[str],
        langs: list[str | None],
        results: list[Analysis],
        predict: bool = True,
    ) -> None:
        todo = [i for i, post in enumerate(posts) if not post.sentiment] if predict else []
        predicted = _predict_some(sentiment.predict_sentiment, todo, texts, langs)
        for i, (post, result) in enumerate(zip(posts, results, strict=True)):
            if post.sentiment:
                result.sentiment = post.sentiment
                result.enrichments[sentiment.ENRICHER_NAME] = {
                    "version": "source",
                    "value": post.sentiment,
                }
                continue
            if i not in predicted:
                continue
            label, score = predicted[i]
            result.sentiment, result.sentiment_score = label, round(float(score), 4)
            result.enrichments[sentiment.ENRICHER_NAME] = {
                "version": sentiment.ENRICHER_VERSION,
                "value": label,
                "score": result.sentiment_score,
            }

    @staticmethod
    def _intents(
        posts: Sequence[PostText],
        texts: list[str],
        langs: list[str | None],
        results: list[Analysis],
        predict: bool = True,
    ) -> None:
        todo = [i for i, post in enumerate(posts) if not post.intents] if predict else []
        predicted = _predict_some(intent.predict_intents, todo, texts, langs)
        for i, (post, result) in enumerate(zip(posts, results, strict=True)):
            if post.intents:
                result.intents = list(post.intents)
                result.enrichments[intent.ENRICHER_NAME] = {
                    "version": "source",
                    "value": result.intents,
                }
                continue
            if i not in predicted:
                continue
            result.intents = list(predicted[i])
            result.enrichments[intent.ENRICHER_NAME] = {
                "version": intent.ENRICHER_VERSION,
                "value": result.intents,
            }
