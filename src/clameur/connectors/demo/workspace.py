"""The demo workspace: a fictional festival in the south of France, its rivals and its team."""

from __future__ import annotations

from typing import Any

BRAND_NAME = "Festival Lueurs d'Été"

# The brand's own accounts; the generator signs its replies and announcements with these.
BRAND_ACCOUNTS: list[dict[str, str]] = [
    {"network": "x", "handle": "lueursfest", "display_name": "Lueurs d'Été 🌅"},
    {"network": "instagram", "handle": "lueursfest", "display_name": "Festival Lueurs d'Été"},
    {"network": "facebook", "handle": "lueursfest", "display_name": "Festival Lueurs d'Été"},
    {
        "network": "mastodon",
        "handle": "lueursfest@mastodon.social",
        "display_name": "Lueurs d'Été",
    },
    {"network": "bluesky", "handle": "lueursfest.bsky.social", "display_name": "Lueurs d'Été"},
    {"network": "linkedin", "handle": "festival-lueurs-d-ete", "display_name": BRAND_NAME},
    {"network": "youtube", "handle": "LueursFestOfficiel", "display_name": BRAND_NAME},
]

COMPETITORS = ["Cigalune", "Mistral Sonore", "Rivage Électrique"]

_BRAND_TERMS = "(lueurs OR lueursfest OR #LueursFest OR @lueursfest)"

SAVED_QUERIES: list[dict[str, Any]] = [
    {
        "name": "Lueurs d'Été — mentions",
        "query": 'lueurs OR lueursfest OR #LueursFest OR @lueursfest OR "lueurs d\'été"',
        "description": "Every mention of the festival: its name, hashtag and handle.",
        "competitor": None,
    },
    {
        "name": "Cigalune",
        "query": "cigalune OR cigalunefest OR #Cigalune OR @cigalunefest",
        "description": "Competitor: the Cigalune festival (Provence).",
        "competitor": "Cigalune",
    },
    {
        "name": "Mistral Sonore",
        "query": '"mistral sonore" OR mistralsonore OR @mistralsonore',
        "description": "Competitor: Mistral Sonore (Marseille).",
        "competitor": "Mistral Sonore",
    },
    {
        "name": "Rivage Électrique",
        "query": '"rivage électrique" OR rivageelectrique OR rivagefest OR @rivagefest',
        "description": "Competitor: Rivage Électrique (Côte Basque).",
        "competitor": "Rivage Électrique",
    },
    {
        "name": "Remboursements",
        "query": 'rembours* OR refund* OR "money back" OR (cashless NEAR/5 solde)',
        "description": "Refund requests: cancelled headliner, cashless balances.",
        "competitor": None,
    },
    {
        "name": "Navettes & transport",
        "query": "navette* OR shuttle* OR bus OR covoit* OR parking OR taxi",
        "description": "Shuttles, car sharing, parking and getting home at night.",
        "competitor": None,
    },
    {
        "name": "Nourriture",
        "query": (
            'nourriture OR bouffe OR manger OR food OR "food trucks" OR foodtruck* OR buvette '
            "OR frites OR burger OR eau OR water"
        ),
        "description": "Food trucks, queues, prices, water at the bar.",
        "competitor": None,
    },
    {
        "name": "Billetterie",
        "query": f"{_BRAND_TERMS} AND (billet* OR pass OR ticket* OR bracelet*)",
        "description": "Ticket questions, wristbands, resale and purchase intent.",
        "competitor": None,
    },
    {
        "name": "Crise : plaintes",
        "query": (
            f"{_BRAND_TERMS} AND (intent:complaint OR sentiment:negative) -author:@lueursfest"
        ),
        "description": "Negative posts and complaints about the festival, not from our accounts.",
        "competitor": None,
    },
    {
        "name": "Intentions d'achat",
        "query": f'{_BRAND_TERMS} AND (intent:purchase_intent OR "acheter un pass" OR buy)',
        "description": "People about to buy a pass: answer them fast.",
        "competitor": None,
    },
]

DEMO_WORKSPACE: dict[str, Any] = {
    "slug": "lueurs",
    "name": BRAND_NAME,
    "timezone": "Europe/Paris",
    "competitors": COMPETITORS,
    "accounts": BRAND_ACCOUNTS,
    "saved_queries": SAVED_QUERIES,
}

DEMO_USERS: list[dict[str, str]] = [
    {
        "email": "demo@clameur.local",
        "name": "Démo Admin",
        "role": "admin",
        "password": "clameur-demo",
    },
    {
        "email": "camille@clameur.local",
        "name": "Camille Fabre",
        "role": "manager",
        "password": "clameur-demo",
    },
    {
        "email": "yanis@clameur.local",
        "name": "Yanis Benali",
        "role": "agent",
        "password": "clameur-demo",
    },
    {
        "email": "ines@clameur.local",
        "name": "Inès Laurent",
        "role": "viewer",
        "password": "clameur-demo",
    },
]
