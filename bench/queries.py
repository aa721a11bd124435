"""Saved queries for the benchmarks: the demo workspace's own, then generated brand queries.

A workspace that listens at scale holds mostly brand queries: a brand's name, handle and
hashtag, often narrowed to a topic, a language, a network or complaint words, with exclusions.
The generator writes such queries for a few dozen brands. About a third are about the demo's
world (the festival, its rivals and artists, shuttles, food, tickets, refunds) and so match demo
posts; the rest watch other brands, as the other teams sharing an instance would. Deterministic
for a seed.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from clameur.connectors.demo.workspace import SAVED_QUERIES
from clameur.query import parse

GENERATOR_VERSION = 1


@dataclass(frozen=True, slots=True)
class Brand:
    """How people name a brand: its name, a one-word form, a hashtag and a handle."""

    name: str
    handle: str
    tag: str

    def terms(self, rng: random.Random) -> str:
        """An OR group naming the brand, as people write it (2 to 4 forms)."""
        name = self.name.lower()
        forms = [f'"{name}"' if " " in name or "'" in name or "-" in name else name]
        compact = _compact(self.name)
        if compact != forms[0]:
            forms.append(compact)
        forms.append(f"#{self.tag}")
        forms.append(f"@{self.handle}")
        keep = rng.randint(2, len(forms))
        chosen = forms[:1] + rng.sample(forms[1:], keep - 1)
        return "(" + " OR ".join(chosen) + ")" if len(chosen) > 1 else chosen[0]


def _compact(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _brand(name: str, handle: str | None = None, tag: str | None = None) -> Brand:
    compact = _compact(name)
    return Brand(name, handle or compact, tag or compact)


# The demo's world: these queries find demo posts.
DEMO_BRANDS = (
    _brand("Lueurs", "lueursfest", "LueursFest"),
    _brand("Lueurs d'Été", "lueursfest", "LueursDEte"),
    _brand("Cigalune", "cigalunefest"),
    _brand("Mistral Sonore", "mistralsonore", "MistralSonore"),
    _brand("Rivage Électrique", "rivagefest", "RivageElectrique"),
    _brand("Kid Lavande"),
    _brand("Aurore Bleue"),
    _brand("Nova Sahel"),
    _brand("Les Ombres Douces"),
    _brand("The Salt Lines"),
    _brand("Maëlle Orsini"),
    _brand("DJ Tramontane"),
    _brand("Corail Noir"),
    _brand("Mina Okafor"),
    _brand("Velvet Harbour"),
    _brand("Paloma Vidal Trio"),
    _brand("Bleu Piment"),
    _brand("Sable Rouge"),
)
DEMO_TOPICS = {
    "transport": ("navette*", "shuttle*", "bus", "parking", "covoit*", "taxi", '"park & ride"'),
    "food": ("bouffe", "food", "frites", "burger", "buvette", "eau", "water", '"food trucks"'),
    "tickets": ("billet*", "ticket*", "pass", "bracelet*", "revendre", "resale", "camping"),
    "refunds": ("rembours*", "refund*", '"money back"', "annul*", "cancel*"),
    "entry": ("entrée", "portes", "gates", "queue", "fouille", "attente", "sécurité"),
    "line-up": ("concert", "set", "scène", "stage", "line-up", "programmation", "live"),
    "praise": ("incroyable", "magique", "unreal", "amazing", "génial", "best"),
}
DEMO_CITIES = ("Montpellier", "Sète", "Béziers", "Nîmes", "Toulouse", "Marseille", "Agde", "Lyon")

# Everyone else an instance listens for: other teams' brands and their rivals.
OTHER_BRANDS = tuple(
    _brand(name)
    for name in (
        "Air France", "SNCF", "Ouigo", "Orange", "Free Mobile", "SFR", "Bouygues Telecom",
        "La Poste", "Colissimo", "Chronopost", "Decathlon", "Fnac", "Darty", "Boulanger",
        "Carrefour", "Leclerc", "Auchan", "Intermarché", "Monoprix", "Lidl", "Sephora",
        "Yves Rocher", "Renault", "Peugeot", "Citroën", "BlaBlaCar", "Deliveroo", "Uber Eats",
        "Airbnb", "Ryanair", "easyJet", "Transavia", "Vueling", "Ticketmaster", "Spotify",
        "Deezer", "Canal+", "Kronenbourg", "Orangina", "Evian", "Michelin", "TotalEnergies",
        "EDF", "Engie", "Crédit Agricole", "BNP Paribas", "Boursorama", "Revolut", "Lydia",
        "Doctolib", "Leboncoin", "Vinted", "Cdiscount", "Zalando", "Quechua", "Leroy Merlin",
        "Castorama", "Picard", "Nespresso", "Ubisoft", "Lacoste", "Club Med", "Center Parcs",
        "Puy du Fou", "Parc Astérix", "Disneyland Paris", "Nuits Salines", "Vague Sonore",
        "Garrigue Live", "Échos du Port", "Sunset Bay Fest", "Estivales de Thau", "Jazz à Sète",
        "Main Square", "Les Vieilles Charrues", "Rock en Seine", "Hellfest", "Solidays",
        "Francofolies", "We Love Green", "Marsatac", "Delta Festival", "Cabaret Vert",
        "Papillons de Nuit", "Festival de Nîmes", "Printemps de Bourges", "Transmusicales",
    )
)  # fmt: skip
OTHER_TOPICS = {
    "delivery": ("livraison", "colis", "delivery", "parcel", "livreur", "suivi", "tracking"),
    "service": ('"service client"', '"customer service"', "sav", "hotline", "conseiller"),
    "billing": ("facture*", "prélèvement*", "abonnement", "subscription", "résiliation"),
    "outage": ("panne", "outage", "réseau", "network", "bug*", "down", "coupure"),
    "travel": ("retard*", "delay*", "annul*", "cancel*", "grève", "strike", "correspondance"),
    "product": ("qualité", "quality", "défaut", "broken", "cassé", "produit", "product"),
    "app": ("appli", "app", "application", "update", "connexion", "login", "mot de passe"),
    "prices": ("prix", "price*", "cher", "expensive", "promo*", "soldes", "réduction"),
    "stores": ("magasin", "store", "caisse", "vendeur", "vendeuse", "rayon", "drive"),
    "events": ("concert*", "billet*", "ticket*", "festival", "line-up", "scène", "pass"),
}
COMPLAINTS_FR = (
    "arnaque", "scandale", "honte", "inadmissible", "nul", "déçu*", "déception", "galère",
    "jamais plus", "plainte", '"plus jamais"', "lamentable", "catastroph*", "rembours*",
    "colère", "inacceptable",
)  # fmt: skip
COMPLAINTS_EN = (
    "scam", "worst", "disappointed", "disgrace", "awful", "terrible", "refund*", "complain*",
    '"never again"', '"rip off"', "useless", "joke", "furious", "unacceptable",
)  # fmt: skip
EXCLUSIONS = (
    "(job OR jobs OR emploi OR recrute* OR stage OR alternance)",
    "(concours OR giveaway OR gagner OR win)",
    "(promo OR code OR bon plan)",
    '("fan club" OR fanfic)',
    "(bot OR spam)",
)
NETWORKS = ("x", "instagram", "facebook", "reddit", "youtube", "mastodon", "bluesky", "linkedin")


def _pick(rng: random.Random, words: tuple[str, ...], low: int = 2, high: int = 4) -> str:
    chosen = rng.sample(words, min(len(words), rng.randint(low, high)))
    return "(" + " OR ".join(chosen) + ")" if len(chosen) > 1 else chosen[0]


def _topic(rng: random.Random, demo: bool) -> tuple[str, str]:
    topics = DEMO_TOPICS if demo else OTHER_TOPICS
    label = rng.choice(sorted(topics))
    return label, _pick(rng, topics[label])


Family = Callable[[random.Random, Brand, bool], tuple[str, str]]


def _mentions(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    return "mentions", brand.terms(rng)


def _brand_topic(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    label, words = _topic(rng, demo)
    return label, f"{brand.terms(rng)} AND {words}"


def _complaints(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    if rng.random() < 0.5:
        return "plaintes", f"{brand.terms(rng)} {_pick(rng, COMPLAINTS_FR, 3, 6)}"
    return "complaints", f"{brand.terms(rng)} AND {_pick(rng, COMPLAINTS_EN, 3, 6)}"


def _language(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    lang = rng.choice(("fr", "fr", "en", "es", "de"))
    return f"lang {lang}", f"{brand.terms(rng)} lang:{lang}"


def _network(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    network = rng.choice(NETWORKS)
    return f"on {network}", f"{brand.terms(rng)} network:{network}"


def _not_ours(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    exclusion = rng.choice(EXCLUSIONS)
    return "others", f"{brand.terms(rng)} -author:@{brand.handle} -{exclusion}"


def _near(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    topics = DEMO_TOPICS if demo else OTHER_TOPICS
    word = rng.choice(topics[rng.choice(sorted(topics))])
    name = brand.name.lower()
    left = f'"{name}"' if " " in name or "'" in name else _compact(brand.name)
    distance = rng.choice((3, 5, 8, 10))
    ordered = "f" if rng.random() < 0.2 else ""
    return "near", f"{left} NEAR/{distance}{ordered} {word}"


def _rivals(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    pool = DEMO_BRANDS if demo else OTHER_BRANDS
    rival = rng.choice([each for each in pool if each.handle != brand.handle])
    comparison = rng.choice(
        ("", ' AND (vs OR "mieux que" OR "better than" OR compar*)', " AND (prix OR price*)")
    )
    return f"vs {rival.name}", f"{brand.terms(rng)} AND {rival.terms(rng)}{comparison}"


def _feelings(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    field = rng.choice(
        ("(intent:complaint OR sentiment:negative)", "intent:purchase_intent", "intent:question")
    )
    return "signals", f"{brand.terms(rng)} AND {field} -author:@{brand.handle}"


def _campaign(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    tags = [f"#{brand.tag}", f"#{brand.tag}{rng.choice(('2026', 'live', 'fr', 'fans'))}"]
    if demo:
        tags.append(rng.choice(("#festival", "#sete", "#occitanie", "#concert", "#livemusic")))
    return "campaign", " OR ".join(tags) + f" OR @{brand.handle}"


def _topic_only(rng: random.Random, brand: Brand, demo: bool) -> tuple[str, str]:
    """Queries with no brand at all: a topic, narrowed by complaint words or a city."""
    label, words = _topic(rng, demo)
    if demo and rng.random() < 0.5:
        city = rng.choice(DEMO_CITIES).lower()
        return f"{label} {city}", f"{words} AND {city}"
    extra = _pick(rng, COMPLAINTS_FR + COMPLAINTS_EN, 2, 4)
    return f"{label} complaints", f"{words} AND {extra}"


# Family, weight: mostly brand queries, a few broad topic ones.
FAMILIES: tuple[tuple[Family, float], ...] = (
    (_mentions, 14.0),
    (_brand_topic, 22.0),
    (_complaints, 14.0),
    (_language, 7.0),
    (_network, 6.0),
    (_not_ours, 8.0),
    (_near, 8.0),
    (_rivals, 7.0),
    (_feelings, 5.0),
    (_campaign, 5.0),
    (_topic_only, 4.0),
)
DEMO_SHARE = 0.3


def demo_queries() -> list[tuple[str, str]]:
    """The demo workspace's saved queries, as (name, query)."""
    return [(each["name"], each["query"]) for each in SAVED_QUERIES]


def generated_queries(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """`count` brand queries with unique names, each checked by the parser."""
    rng = random.Random(f"clameur-bench-queries-{seed}-v{GENERATOR_VERSION}")
    families = [family for family, _ in FAMILIES]
    weights = [weight for _, weight in FAMILIES]
    out: list[tuple[str, str]] = []
    while len(out) < count:
        demo = rng.random() < DEMO_SHARE
        brand = rng.choice(DEMO_BRANDS if demo else OTHER_BRANDS)
        family = rng.choices(families, weights=weights)[0]
        label, query = family(rng, brand, demo)
        parse(query)  # a generator bug must fail loudly, not be benchmarked
        out.append((f"{brand.name} — {label} #{len(out) + 1}", query))
    return out


def workspace_queries(total: int, seed: int = 7) -> list[tuple[str, str]]:
    """The demo's saved queries first, then generated ones: `total` in all."""
    demo = demo_queries()
    return demo + generated_queries(max(0, total - len(demo)), seed)
