"""Build ``synthkit_datasets/transactions.csv.gz``: a synthetic, fraud-style card-transactions table.

Run ``python synthkit_datasets/make_transactions.py`` (or ``--out PATH``). The script is seeded and writes
the gzip with a zero mtime and an empty embedded file name, so that it rebuilds the shipped file
byte for byte (given the same numpy, pandas and zlib).

The table has 20,000 rows, one card transaction each, and these columns:

=========================  ========  =======================================================
column                     dtype     meaning
=========================  ========  =======================================================
amount                     float     transaction amount in USD, 2 decimals, > 0
hour                       int       local hour of the transaction, 0-23
day_of_week                str       "Mon" .. "Sun"
merchant_category          str       grocery, restaurant, fuel, retail, digital, electronics,
                                     travel, jewelry, cash (ATM withdrawals)
channel                    str       pos, contactless, online, atm
country                    str       ISO code of the merchant / terminal; "US" is home
card_present               bool      the physical card was read (pos, contactless, atm)
new_device                 bool      online only: the browser/device was never seen for this
                                     customer before (always False when the card is present)
distance_from_home_km      float     distance of the merchant, terminal or IP location from the
                                     customer's home, 2 decimals
txn_count_24h              int       transactions on this card in the last 24 hours, >= 1
account_age_days           int       age of the card account in days, >= 0
customer_age               int       cardholder's age in years, 18-90
is_fraud                   int       1 for a fraudulent transaction, else 0 (about 1.5%)
=========================  ========  =======================================================

Legitimate transactions come from a pool of 4,000 simulated customers, each with an age, an
account age, a spending level, an activity level and a travel habit. A customer's transaction
picks a merchant category (young customers buy more digital goods and restaurant meals, older
ones more groceries and fuel); the channel follows the category; the amount is lognormal around a
per-category median scaled by the customer's spending level (ATM withdrawals are round multiples
of 20); the hour follows a per-category daytime profile (restaurants peak at lunch and dinner);
distances are a few km from home; a small share of transactions are made while travelling abroad,
then far from home and partly at odd hours. Legitimate rows include look-alikes of each fraud
pattern: cheap digital subscriptions, expensive online electronics bought on a new phone,
cash withdrawals abroad, busy days with many transactions.

Fraud rows (300, i.e. 1.5% of the table) follow four distinct patterns, each only partly
separable from legitimate traffic. Fraud rows reuse the simulated customers as victims, so
``customer_age`` and (except for card testing) ``account_age_days`` look like everyone else's.

1. **Card testing** (105 rows). Stolen card numbers are checked with bursts of small online
   purchases before they are sold or used: mostly $0.50-$6 (often 0.99, 1.00, 1.99, 4.99), a
   quarter of them plausible $10-$30 "verification" purchases, at digital or retail merchants,
   card not present, a high ``txn_count_24h`` (typically 4-25, overlapping with busy legitimate
   customers), a new device in about 40% of the cases, at any hour of the day, and on a young
   account (under 60 days) in about 45% of the cases. The country is mostly home (testers use
   domestic proxies), else a fraud-prone foreign country.

2. **Account takeover** (75 rows). A fraudster who has taken over an established account (one
   year or older) spends big: median about $600 at electronics, travel, retail or jewelry
   merchants, and a quarter of the time round gift-card amounts ($50-$250) at retail. Mostly
   online from a new device (60%); 15% are contactless payments with a mobile wallet set up on
   the fraudster's phone. Abroad and far from home in about half of the cases; at night (0-5 h,
   home time) in about half.

3. **ATM cash-out** (45 rows). Cloned cards are emptied at ATMs: channel ``atm``, card present,
   large round amounts ($300-$1,000 in steps of 100 or 20; legitimate withdrawals are mostly
   below $200 but sometimes reach $800), abroad in 45% of the cases (often in countries that
   legitimate customers rarely visit: RO, NG, RU, UA), late at night (22-4 h) in 45%, and
   several withdrawals in a row (``txn_count_24h`` 2-8).

4. **Card-not-present high-value fraud** (75 rows). Stolen card details are used to order
   electronics or jewelry online for delivery: median about $380 (from about $100 to a few
   thousand), card not present, mostly the home country with a moderate IP distance, a new device
   in about 35% of the cases, at ordinary daytime and evening hours. This is the hardest pattern:
   it looks like an expensive but normal online purchase.

With one-hot categories and standardised (log) numbers, an IsolationForest finds the table
informative but far from easy (its ROC-AUC is in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240607
N_ROWS = 20_000
N_FRAUD = 300  # 1.5%
N_CUSTOMERS = 4_000

DAYS = np.array(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
CATEGORIES = np.array(
    [
        "grocery",
        "restaurant",
        "fuel",
        "retail",
        "digital",
        "electronics",
        "travel",
        "jewelry",
        "cash",
    ]
)
# per-category median amount (USD) and lognormal sigma
CAT_MEDIAN = dict(
    grocery=45.0,
    restaurant=32.0,
    fuel=42.0,
    retail=55.0,
    digital=12.0,
    electronics=180.0,
    travel=320.0,
    jewelry=240.0,
    cash=80.0,
)
CAT_SIGMA = dict(
    grocery=0.6,
    restaurant=0.55,
    fuel=0.35,
    retail=0.8,
    digital=0.9,
    electronics=0.9,
    travel=0.7,
    jewelry=0.9,
    cash=0.6,
)
# channel probabilities per category: (pos, contactless, online, atm)
CHANNELS = np.array(["pos", "contactless", "online", "atm"])
CAT_CHANNEL = dict(
    grocery=(0.42, 0.48, 0.10, 0.0),
    restaurant=(0.35, 0.50, 0.15, 0.0),
    fuel=(0.55, 0.45, 0.0, 0.0),
    retail=(0.28, 0.27, 0.45, 0.0),
    digital=(0.0, 0.0, 1.0, 0.0),
    electronics=(0.35, 0.10, 0.55, 0.0),
    travel=(0.10, 0.05, 0.85, 0.0),
    jewelry=(0.65, 0.10, 0.25, 0.0),
    cash=(0.0, 0.0, 0.0, 1.0),
)
# hour profiles: unnormalised weights for hours 0..23
_H = np.arange(24)


def _bump(center: float, width: float) -> np.ndarray:
    d = np.minimum(np.abs(_H - center), 24 - np.abs(_H - center))
    return np.exp(-0.5 * (d / width) ** 2)


HOUR_PROFILE = dict(
    grocery=_bump(11, 3) + _bump(18, 2) + 0.02,
    restaurant=_bump(12.5, 1.2) + 1.3 * _bump(19.5, 1.6) + 0.03,
    fuel=_bump(8, 2) + _bump(17, 2.5) + 0.03,
    retail=_bump(14, 3.5) + 0.03,
    digital=_bump(21, 3) + 0.6 * _bump(13, 3) + 0.15,
    electronics=_bump(15, 3.5) + 0.5 * _bump(21, 2) + 0.05,
    travel=_bump(11, 3) + 0.7 * _bump(21, 2.5) + 0.1,
    jewelry=_bump(15, 3) + 0.02,
    cash=_bump(12, 4) + 0.5 * _bump(20, 2) + 0.08,
)
HOME = "US"
# countries visited by legitimate travellers, and weights
TRAVEL_COUNTRIES = np.array(["CA", "MX", "GB", "FR", "DE", "ES", "JP", "BR"])
TRAVEL_W = np.array([0.26, 0.24, 0.14, 0.10, 0.09, 0.08, 0.05, 0.04])
TRAVEL_KM = dict(CA=900, MX=1800, GB=5600, FR=6200, DE=6500, ES=6000, JP=10500, BR=7800)
# countries favoured by fraud (overlapping with legit travel destinations)
FRAUD_COUNTRIES = np.array(["RO", "NG", "RU", "BR", "MX", "GB", "CA", "UA"])
FRAUD_W = np.array([0.17, 0.15, 0.13, 0.12, 0.12, 0.11, 0.10, 0.10])
FRAUD_KM = dict(TRAVEL_KM, RO=7800, NG=9000, RU=7900, UA=7700)


def _hours(rng: np.random.Generator, profile: str, size: int) -> np.ndarray:
    """Hours drawn from the named category's hour profile."""
    return rng.choice(24, size=size, p=HOUR_PROFILE[profile] / HOUR_PROFILE[profile].sum())


def _km_abroad(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Distance from a US home to each country (0 for the US), with some spread."""
    return np.array([FRAUD_KM.get(k, 0) for k in country]) * rng.lognormal(0, 0.25, len(country))


def _choice_rows(rng: np.random.Generator, options: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One draw per row from ``options`` with per-row probabilities ``probs`` (n, k)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))[:, None]
    idx = np.minimum((u > cum).sum(axis=1), len(options) - 1)
    return options[idx]


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    age = np.clip(np.round(rng.gamma(3.2, 8.0, n) + 18), 18, 90).astype(np.int64)
    # older customers tend to hold older accounts; at most (age - 18) years
    max_days = (age - 18) * 365 + 30
    acct = np.round(rng.gamma(1.6, 900.0, n) * (0.5 + age / 80)).astype(np.int64)
    acct = np.minimum(acct, max_days)
    spend = rng.lognormal(0.0, 0.35, n) * (0.8 + 0.01 * np.clip(age - 18, 0, 40))
    activity = rng.lognormal(0.0, 0.6, n)  # relative number of transactions
    travel = rng.beta(0.5, 10.0, n)  # share of transactions made abroad
    home_km = rng.lognormal(1.6, 0.6, n)  # typical distance of everyday shopping
    return pd.DataFrame(
        dict(age=age, acct=acct, spend=spend, activity=activity, travel=travel, home_km=home_km)
    )


def _legit(rng: np.random.Generator, cust: pd.DataFrame, n: int) -> pd.DataFrame:
    who = rng.choice(len(cust), size=n, p=(cust.activity / cust.activity.sum()).to_numpy())
    c = cust.iloc[who].reset_index(drop=True)
    age = c.age.to_numpy()
    young = np.clip((45 - age) / 27, 0, 1)  # 1 at 18, 0 from 45 on

    # merchant category depends on age
    base = np.array([0.22, 0.16, 0.10, 0.16, 0.08, 0.04, 0.03, 0.01, 0.09])
    tilt = np.array([-0.08, 0.06, -0.03, 0.0, 0.08, 0.02, 0.0, -0.005, -0.02])
    probs = np.clip(base[None, :] + young[:, None] * tilt[None, :], 0.002, None)
    cat = _choice_rows(rng, CATEGORIES, probs)

    abroad = rng.random(n) < c.travel.to_numpy()
    # while abroad people buy more travel, restaurant and cash
    re = abroad & (rng.random(n) < 0.35)
    trip_cat = rng.choice(["travel", "restaurant", "cash"], size=n, p=[0.3, 0.45, 0.25])
    cat = np.where(re, trip_cat, cat)

    chan_p = np.array([CAT_CHANNEL[k] for k in cat])
    channel = _choice_rows(rng, CHANNELS, chan_p)

    # amount: lognormal around the category median, scaled by the customer's spending level
    med = np.array([CAT_MEDIAN[k] for k in cat]) * c.spend.to_numpy()
    sig = np.array([CAT_SIGMA[k] for k in cat])
    amount = med * np.exp(sig * rng.standard_normal(n))
    # online digital goods: many small subscription / app-store amounts
    sub = (cat == "digital") & (rng.random(n) < 0.35)
    amount = np.where(sub, rng.choice([0.99, 1.99, 2.99, 4.99, 9.99, 14.99], size=n), amount)
    # card-present micro-purchases: coffee, snacks, parking, transit top-ups
    micro = np.isin(cat, ["restaurant", "retail", "grocery"]) & (channel != "online")
    micro &= rng.random(n) < 0.12
    amount = np.where(micro, rng.lognormal(np.log(3.5), 0.5, n), amount)
    # occasional big-ticket purchases: furniture, appliances, flights, rings
    big = np.isin(cat, ["retail", "electronics", "travel", "jewelry"]) & (rng.random(n) < 0.08)
    amount = np.where(big, amount * rng.lognormal(1.2, 0.5, n), amount)
    # ATM withdrawals: round multiples of 20, at most 800
    atm = channel == "atm"
    atm_amt = np.clip(np.round(amount / 20) * 20, 20, 800)
    atm_amt = np.where(rng.random(n) < 0.08, rng.choice([300, 400, 500, 600, 800], size=n), atm_amt)
    amount = np.where(atm, atm_amt, np.maximum(np.round(amount, 2), 0.5))

    hour = np.empty(n, dtype=np.int64)
    for k in CATEGORIES:
        m = cat == k
        w = HOUR_PROFILE[k] / HOUR_PROFILE[k].sum()
        hour[m] = rng.choice(24, size=m.sum(), p=w)
    # travellers abroad: time-zone shift relative to home time
    shift = rng.choice([-2, -1, 0, 5, 6, 7, 8, 14], size=n)
    hour = np.where(abroad, (hour + shift) % 24, hour)
    # a few night owls
    owl = rng.random(n) < 0.03
    hour = np.where(owl, rng.choice([0, 1, 2, 3, 4, 23], size=n), hour)

    dow_w = np.array([0.13, 0.13, 0.14, 0.14, 0.16, 0.17, 0.13])
    day = rng.choice(DAYS, size=n, p=dow_w)

    country = np.where(abroad, rng.choice(TRAVEL_COUNTRIES, size=n, p=TRAVEL_W), HOME)
    # online purchases from foreign merchants without travelling
    foreign_web = (channel == "online") & ~abroad & (rng.random(n) < 0.04)
    country = np.where(foreign_web, rng.choice(["GB", "DE", "CA", "JP", "RO"], size=n), country)

    km_home = c.home_km.to_numpy() * rng.lognormal(0.0, 0.8, n)
    km_abroad = np.array([TRAVEL_KM.get(k, 0) for k in country]) * rng.lognormal(0, 0.25, n)
    # online: distance of the IP location (home network, mobile data, office)
    km_online = np.where(rng.random(n) < 0.7, rng.exponential(3.0, n), rng.lognormal(3.5, 1.3, n))
    dist = np.where(channel == "online", km_online, km_home)
    dist = np.where(abroad, km_abroad, dist)
    # business trips inside the country
    trip = ~abroad & (channel != "online") & (rng.random(n) < 0.03)
    dist = np.where(trip, rng.lognormal(6.0, 0.7, n), dist)

    card_present = channel != "online"
    new_dev = (channel == "online") & (rng.random(n) < np.where(abroad, 0.35, 0.12))

    lam = 1.2 + 2.2 * c.activity.to_numpy()
    count = 1 + rng.poisson(lam)
    busy = rng.random(n) < 0.03
    count = np.where(busy, count + rng.integers(4, 18, n), count)

    return pd.DataFrame(
        dict(
            amount=amount,
            hour=hour,
            day_of_week=day,
            merchant_category=cat,
            channel=channel,
            country=country,
            card_present=card_present,
            new_device=new_dev,
            distance_from_home_km=dist,
            txn_count_24h=count,
            account_age_days=c.acct.to_numpy(),
            customer_age=age,
            is_fraud=0,
            pattern="legit",
        )
    )


def _fraud(rng: np.random.Generator, cust: pd.DataFrame, n: int) -> pd.DataFrame:
    sizes = dict(
        card_testing=round(0.35 * n), account_takeover=round(0.25 * n), atm_cashout=round(0.15 * n)
    )
    sizes["cnp_high_value"] = n - sum(sizes.values())
    parts = []
    for pattern, m in sizes.items():
        c = cust.iloc[rng.integers(0, len(cust), m)].reset_index(drop=True)
        age = c.age.to_numpy()
        acct = c.acct.to_numpy()
        day = rng.choice(DAYS, size=m)
        if pattern == "card_testing":
            cat = rng.choice(["digital", "retail"], size=m, p=[0.7, 0.3])
            channel = np.full(m, "online")
            amount = np.round(rng.lognormal(np.log(3.0), 0.7, m) + 0.3, 2)
            # some testers use plausible 'verification' purchases instead of pennies
            verify = rng.random(m) < 0.25
            amount = np.where(verify, np.round(rng.lognormal(np.log(18), 0.5, m), 2), amount)
            penny = rng.random(m) < 0.3
            amount = np.where(penny, rng.choice([0.99, 1.00, 1.99, 4.99], size=m), amount)
            hour = rng.integers(0, 24, m)
            home = rng.random(m) < 0.7
            country = np.where(home, HOME, rng.choice(FRAUD_COUNTRIES, size=m, p=FRAUD_W))
            dist = np.where(country == HOME, rng.lognormal(3.5, 1.3, m), _km_abroad(rng, country))
            new_dev = rng.random(m) < 0.4
            count = 1 + np.round(rng.lognormal(2.0, 0.6, m)).astype(np.int64)
            young_acct = rng.random(m) < 0.45
            acct = np.where(young_acct, rng.integers(0, 60, m), acct)
        elif pattern == "account_takeover":
            cat = rng.choice(
                ["electronics", "travel", "retail", "jewelry"], size=m, p=[0.4, 0.3, 0.2, 0.1]
            )
            # mostly online; else contactless with a wallet on the fraudster's phone
            channel = np.where(rng.random(m) < 0.85, "online", "contactless")
            amount = np.round(rng.lognormal(np.log(600), 0.75, m), 2)
            # gift cards: mid-sized round amounts at retail merchants
            gift = rng.random(m) < 0.25
            amount = np.where(gift, rng.choice([50.0, 100.0, 150.0, 200.0, 250.0], size=m), amount)
            cat = np.where(gift, "retail", cat)
            night = rng.random(m) < 0.4
            hour = np.where(night, rng.integers(0, 6, m), _hours(rng, "retail", m))
            foreign = rng.random(m) < 0.45
            country = np.where(foreign, rng.choice(FRAUD_COUNTRIES, size=m, p=FRAUD_W), HOME)
            dist = np.where(foreign, _km_abroad(rng, country), rng.lognormal(4.5, 1.3, m))
            new_dev = (channel == "online") & (rng.random(m) < 0.6)
            count = 1 + rng.poisson(3.0, m)
            acct = np.maximum(acct, rng.integers(365, 3000, m))
        elif pattern == "atm_cashout":
            cat = np.full(m, "cash")
            channel = np.full(m, "atm")
            hundreds = rng.random(m) < 0.5
            amount = np.where(hundreds, rng.integers(3, 11, m) * 100, rng.integers(15, 41, m) * 20)
            amount = amount.astype(np.float64)
            foreign = rng.random(m) < 0.45
            country = np.where(foreign, rng.choice(FRAUD_COUNTRIES, size=m, p=FRAUD_W), HOME)
            dist = np.where(foreign, _km_abroad(rng, country), rng.lognormal(4.0, 1.3, m))
            late = rng.random(m) < 0.45
            late_hour = rng.choice([22, 23, 0, 1, 2, 3, 4], size=m)
            hour = np.where(late, late_hour, rng.integers(8, 22, m))
            new_dev = np.zeros(m, dtype=bool)
            count = 2 + rng.poisson(2.5, m)
        else:  # cnp_high_value
            cat = rng.choice(["electronics", "jewelry"], size=m, p=[0.7, 0.3])
            channel = np.full(m, "online")
            amount = np.round(rng.lognormal(np.log(380), 0.8, m), 2)
            hour = _hours(rng, "digital", m)
            foreign = rng.random(m) < 0.15
            country = np.where(foreign, rng.choice(FRAUD_COUNTRIES, size=m, p=FRAUD_W), HOME)
            dist = np.where(foreign, _km_abroad(rng, country), rng.lognormal(3.5, 1.3, m))
            new_dev = rng.random(m) < 0.35
            count = 1 + rng.poisson(2.2, m)
        parts.append(
            pd.DataFrame(
                dict(
                    amount=np.asarray(amount, dtype=np.float64),
                    hour=np.asarray(hour, dtype=np.int64),
                    day_of_week=day,
                    merchant_category=cat,
                    channel=channel,
                    country=country,
                    card_present=channel != "online",
                    new_device=np.asarray(new_dev, dtype=bool),
                    distance_from_home_km=dist,
                    txn_count_24h=np.asarray(count, dtype=np.int64),
                    account_age_days=np.asarray(acct, dtype=np.int64),
                    customer_age=age,
                    is_fraud=1,
                    pattern=pattern,
                )
            )
        )
    return pd.concat(parts, ignore_index=True)


COLUMNS = [
    "amount",
    "hour",
    "day_of_week",
    "merchant_category",
    "channel",
    "country",
    "card_present",
    "new_device",
    "distance_from_home_km",
    "txn_count_24h",
    "account_age_days",
    "customer_age",
    "is_fraud",
]


def build_table(seed: int = SEED, n_rows: int = N_ROWS, n_fraud: int = N_FRAUD) -> pd.DataFrame:
    """The shuffled table, with an extra ``pattern`` column naming each row's fraud pattern."""
    rng = np.random.default_rng(seed)
    cust = _customers(rng, N_CUSTOMERS)
    legit = _legit(rng, cust, n_rows - n_fraud)
    fraud = _fraud(rng, cust, n_fraud)
    df = pd.concat([legit, fraud], ignore_index=True)
    df["amount"] = np.round(df["amount"].astype(np.float64), 2)
    df["distance_from_home_km"] = np.round(df["distance_from_home_km"].astype(np.float64), 2)
    for col in ("hour", "txn_count_24h", "account_age_days", "customer_age", "is_fraud"):
        df[col] = df[col].astype(np.int64)
    for col in ("card_present", "new_device"):
        df[col] = df[col].astype(bool)
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    return df[COLUMNS + ["pattern"]]


def write_gz(df: pd.DataFrame, out: Path) -> None:
    """Write ``df`` as gzipped CSV, byte-reproducibly (zero mtime, empty embedded name)."""
    text = df.to_csv(index=False, float_format="%.2f", lineterminator="\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
            gz.write(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("transactions.csv.gz"))
    args = ap.parse_args(argv)
    df = build_table()
    write_gz(df[COLUMNS], args.out)
    print(f"wrote {args.out}: {len(df)} rows, fraud rate {df.is_fraud.mean():.4f}")


if __name__ == "__main__":
    main()
