"""Synthetic personal values: names, identity numbers, phones, cards, e-mails, addresses.

Every generator is vectorised (NumPy digit arithmetic and Polars string
concatenation) so that a million values take well under a second, and draws
only from the ``numpy.random.Generator`` it is given, so a seed fixes the
output. All characters are in GB2312, so every value survives a GBK round trip.

Identity numbers follow the published layouts:

- 18-character resident ID (GB 11643-1999): 6-digit area code, birth date
  ``YYYYMMDD``, 3-digit sequence whose last digit is odd for men and even for
  women, and an ISO 7064 MOD 11-2 check character (weights
  ``7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2``, remainder 0-10 mapped to
  ``10X98765432``).
- 15-digit legacy resident ID: area code, ``YYMMDD``, 3-digit sequence with the
  same gender parity, no check character.
- Residence permit for Hong Kong, Macao and Taiwan residents: the 18-character
  layout with area code 810000, 820000 or 830000.
- Foreigner's permanent-residence ID (2023 layout): ``9``, 2-digit province
  code, 3-digit nationality code, birth date, 3-digit sequence with the gender
  parity, MOD 11-2 check character.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sanhua.demo.geography import ESTATES, PROVINCES, ROADS

__all__ = [
    "ID_WEIGHTS",
    "CHECK_CHARACTERS",
    "mod11_2_check",
    "luhn_check_digit",
    "resident_ids",
    "legacy_ids",
    "foreign_permanent_ids",
    "chinese_names",
    "latin_names",
    "mobile_numbers",
    "card_numbers",
    "emails",
    "addresses",
    "employers",
]

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARACTERS = np.array(list("10X98765432"))

# Surname, pinyin and relative frequency (ASSUMPTION: a rough ordering of the
# most common surnames; the exact shares do not matter for the demo).
_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4), ("陈", "chen", 4.5),
    ("杨", "yang", 3.1), ("黄", "huang", 2.2), ("赵", "zhao", 2.0), ("吴", "wu", 1.9), ("周", "zhou", 1.9),
    ("徐", "xu", 1.3), ("孙", "sun", 1.3), ("马", "ma", 1.2), ("朱", "zhu", 1.2), ("胡", "hu", 1.1),
    ("郭", "guo", 1.1), ("何", "he", 1.0), ("高", "gao", 1.0), ("林", "lin", 1.0), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.9), ("谢", "xie", 0.7), ("宋", "song", 0.7), ("唐", "tang", 0.7),
    ("许", "xu", 0.6), ("韩", "han", 0.6), ("冯", "feng", 0.6), ("邓", "deng", 0.6), ("曹", "cao", 0.6),
    ("彭", "peng", 0.5), ("曾", "zeng", 0.5), ("肖", "xiao", 0.5), ("田", "tian", 0.5), ("董", "dong", 0.5),
    ("袁", "yuan", 0.5), ("潘", "pan", 0.4), ("于", "yu", 0.4), ("蒋", "jiang", 0.4), ("蔡", "cai", 0.4),
    ("余", "yu", 0.4), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4), ("苏", "su", 0.4),
    ("魏", "wei", 0.4), ("吕", "lv", 0.4), ("丁", "ding", 0.3), ("任", "ren", 0.3), ("沈", "shen", 0.3),
    ("姚", "yao", 0.3), ("卢", "lu", 0.3), ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("钟", "zhong", 0.3),
    ("谭", "tan", 0.3), ("陆", "lu", 0.3), ("汪", "wang", 0.3), ("范", "fan", 0.3), ("金", "jin", 0.3),
    ("石", "shi", 0.3), ("廖", "liao", 0.3), ("贾", "jia", 0.3), ("夏", "xia", 0.3), ("韦", "wei", 0.3),
    ("方", "fang", 0.3), ("白", "bai", 0.2), ("邹", "zou", 0.2), ("孟", "meng", 0.2), ("熊", "xiong", 0.2),
    ("秦", "qin", 0.2), ("邱", "qiu", 0.2), ("江", "jiang", 0.2), ("尹", "yin", 0.2), ("薛", "xue", 0.2),
    ("段", "duan", 0.2), ("雷", "lei", 0.2), ("侯", "hou", 0.2), ("龙", "long", 0.2), ("史", "shi", 0.2),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02), ("诸葛", "zhuge", 0.01),
)
_MALE_GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("鹏", "peng"), ("华", "hua"), ("刚", "gang"), ("辉", "hui"), ("斌", "bin"),
    ("波", "bo"), ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"),
    ("旭", "xu"), ("宁", "ning"), ("龙", "long"), ("峰", "feng"), ("建", "jian"), ("国", "guo"), ("东", "dong"),
    ("海", "hai"), ("亮", "liang"), ("成", "cheng"), ("志", "zhi"), ("文", "wen"), ("博", "bo"), ("晨", "chen"),
    ("阳", "yang"), ("鑫", "xin"), ("平", "ping"), ("飞", "fei"), ("家", "jia"), ("天", "tian"), ("振", "zhen"),
    ("兵", "bing"), ("春", "chun"), ("永", "yong"), ("德", "de"),
)
_FEMALE_GIVEN: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"), ("娟", "juan"),
    ("霞", "xia"), ("秀", "xiu"), ("玲", "ling"), ("燕", "yan"), ("婷", "ting"), ("雪", "xue"), ("慧", "hui"),
    ("莉", "li"), ("萍", "ping"), ("红", "hong"), ("琳", "lin"), ("颖", "ying"), ("倩", "qian"), ("洁", "jie"),
    ("琴", "qin"), ("云", "yun"), ("梅", "mei"), ("兰", "lan"), ("欣", "xin"), ("悦", "yue"), ("佳", "jia"),
    ("怡", "yi"), ("晶", "jing"), ("璐", "lu"), ("蕾", "lei"), ("薇", "wei"), ("雯", "wen"), ("菲", "fei"),
    ("月", "yue"), ("彤", "tong"), ("瑶", "yao"), ("丹", "dan"), ("英", "ying"),
)
_LATIN_GIVEN = ("JOHN", "MARIA", "DAVID", "ANNA", "MINJUN", "SEOYEON", "HIROSHI", "YUKI", "IVAN", "OLGA", "JAMES", "SOFIA")
_LATIN_FAMILY = ("SMITH", "KIM", "PARK", "TANAKA", "SATO", "IVANOV", "MUELLER", "GARCIA", "NGUYEN", "BROWN")
# Nationality codes (GB/T 2659 numeric): USA, Korea, Japan, Russia, Germany, Vietnam, UK, France.
NATIONALITY_CODES = np.array([840, 410, 392, 643, 276, 704, 826, 250], dtype=np.int64)

# Mobile prefixes of the three carriers (ASSUMPTION: a representative subset).
_MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 158, 159, 170, 176, 177, 180, 181, 182, 186, 187,
     188, 189, 191, 198, 199],
    dtype=np.int64,
)
_MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "139.com", "outlook.com", "gmail.com", "foxmail.com")
_EMPLOYER_WORDS = ("华信", "宏达", "远航", "恒通", "鑫源", "众诚", "金桥", "天成", "瑞丰", "东方", "新兴", "长城", "海纳", "博雅")
_EMPLOYER_KINDS = (
    "商贸有限公司", "科技有限公司", "建筑工程有限公司", "物流有限公司", "餐饮管理有限公司", "电子厂", "服装有限公司",
    "房地产经纪有限公司", "汽车销售服务有限公司", "医药连锁有限公司", "教育咨询有限公司", "制造有限公司",
)
_SELF_EMPLOYED = ("个体工商户", "网店店主", "货车司机", "装修个体户", "餐馆经营者", "农产品批发")


def _weighted_digit_sum(values: np.ndarray, weights_from_right: np.ndarray) -> np.ndarray:
    """Return sum(digit * weight) over the digits of each integer, weights listed from the last digit."""
    remaining = values.astype(np.int64, copy=True)
    total = np.zeros(values.size, dtype=np.int64)
    for weight in weights_from_right:
        total += (remaining % 10) * weight
        remaining //= 10
    return total


def _check_remainder(body17: np.ndarray) -> np.ndarray:
    return _weighted_digit_sum(body17, ID_WEIGHTS[::-1]) % 11


def mod11_2_check(body17: np.ndarray) -> np.ndarray:
    """Return the ISO 7064 MOD 11-2 check characters of 17-digit integers.

    Parameters
    ----------
    body17 : numpy.ndarray of int64
        The first 17 digits of an identity number as integers.

    Returns
    -------
    numpy.ndarray of str
        One of ``10X98765432`` per value.
    """
    return CHECK_CHARACTERS[_check_remainder(body17)]


def luhn_check_digit(body: np.ndarray, width: int) -> np.ndarray:
    """Return the Luhn check digit (0-9) that completes each ``width``-digit body."""
    remaining = body.astype(np.int64, copy=True)
    total = np.zeros(body.size, dtype=np.int64)
    for position in range(width):
        digit = remaining % 10
        remaining //= 10
        if position % 2 == 0:
            digit = digit * 2
            digit = digit // 10 + digit % 10
        total += digit
    return (10 - total % 10) % 10


def _with_check(body17: np.ndarray) -> pl.Series:
    text = pl.Series(body17).cast(pl.Utf8).str.zfill(17)
    return text + pl.Series(CHECK_CHARACTERS.tolist()).gather(_check_remainder(body17))


def _sequence(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """Draw 3-digit sequence numbers whose last digit is odd for men and even for women."""
    head = rng.integers(0, 100, size=male.size, dtype=np.int64)
    tail = 2 * rng.integers(0, 5, size=male.size, dtype=np.int64) + male.astype(np.int64)
    return head * 10 + tail


def _birth_number(birth: np.ndarray) -> np.ndarray:
    """Return birth dates (datetime64[D]) as YYYYMMDD integers."""
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    return years * 10000 + months * 100 + days


def resident_ids(rng: np.random.Generator, area_codes: np.ndarray, birth: np.ndarray, male: np.ndarray) -> pl.Series:
    """Draw 18-character resident ID numbers (also HMT residence permits with area 81/82/83 0000).

    Parameters
    ----------
    rng : numpy.random.Generator
    area_codes : numpy.ndarray of int
        6-digit area codes.
    birth : numpy.ndarray of datetime64[D]
        Dates of birth.
    male : numpy.ndarray of bool
        Gender; sets the parity of the 17th digit.
    """
    body = area_codes.astype(np.int64) * 10**11 + _birth_number(birth) * 1000 + _sequence(rng, male)
    return _with_check(body)


def legacy_ids(rng: np.random.Generator, area_codes: np.ndarray, birth: np.ndarray, male: np.ndarray) -> pl.Series:
    """Draw 15-digit legacy resident ID numbers (``YYMMDD`` birth date, no check character)."""
    body = area_codes.astype(np.int64) * 10**9 + (_birth_number(birth) % 1_000_000) * 1000 + _sequence(rng, male)
    return pl.Series(body).cast(pl.Utf8).str.zfill(15)


def foreign_permanent_ids(
    rng: np.random.Generator, province_codes: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> pl.Series:
    """Draw foreigners' permanent-residence ID numbers in the 2023 18-character layout."""
    nationality = NATIONALITY_CODES[rng.integers(0, NATIONALITY_CODES.size, size=birth.size)]
    body = (
        9 * 10**16
        + province_codes.astype(np.int64) * 10**14
        + nationality * 10**11
        + _birth_number(birth) * 1000
        + _sequence(rng, male)
    )
    return _with_check(body)


def chinese_names(rng: np.random.Generator, male: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """Draw Chinese names and their pinyin (for e-mail handles).

    Returns
    -------
    names, pinyin : polars.Series of str
    """
    n = male.size
    weights = np.array([s[2] for s in _SURNAMES])
    surname_idx = rng.choice(len(_SURNAMES), size=n, p=weights / weights.sum())
    surnames = pl.Series([s[0] for s in _SURNAMES]).gather(surname_idx)
    surname_pinyin = pl.Series([s[1] for s in _SURNAMES]).gather(surname_idx)

    given = []
    for _ in range(2):
        male_idx = rng.integers(0, len(_MALE_GIVEN), size=n)
        female_idx = rng.integers(0, len(_FEMALE_GIVEN), size=n)
        char = pl.select(
            pl.when(pl.Series(male))
            .then(pl.Series([g[0] for g in _MALE_GIVEN]).gather(male_idx))
            .otherwise(pl.Series([g[0] for g in _FEMALE_GIVEN]).gather(female_idx))
        ).to_series()
        sound = pl.select(
            pl.when(pl.Series(male))
            .then(pl.Series([g[1] for g in _MALE_GIVEN]).gather(male_idx))
            .otherwise(pl.Series([g[1] for g in _FEMALE_GIVEN]).gather(female_idx))
        ).to_series()
        given.append((char, sound))

    two_chars = pl.Series(rng.random(n) < 0.7)
    second = pl.select(pl.when(two_chars).then(given[1][0]).otherwise(pl.lit(""))).to_series()
    second_sound = pl.select(pl.when(two_chars).then(given[1][1]).otherwise(pl.lit(""))).to_series()
    names = surnames + given[0][0] + second
    pinyin = surname_pinyin + given[0][1] + second_sound
    return names.alias("name"), pinyin.alias("pinyin")


def latin_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Draw Latin-script names as foreigners' permanent-residence IDs show them."""
    given = pl.Series(_LATIN_GIVEN).gather(rng.integers(0, len(_LATIN_GIVEN), size=n))
    family = pl.Series(_LATIN_FAMILY).gather(rng.integers(0, len(_LATIN_FAMILY), size=n))
    return given + " " + family


def mobile_numbers(rng: np.random.Generator, n: int) -> pl.Series:
    """Draw 11-digit mainland mobile numbers."""
    prefix = _MOBILE_PREFIXES[rng.integers(0, _MOBILE_PREFIXES.size, size=n)]
    number = prefix * 10**8 + rng.integers(0, 10**8, size=n, dtype=np.int64)
    return pl.Series(number).cast(pl.Utf8)


def card_numbers(rng: np.random.Generator, n: int) -> pl.Series:
    """Draw Luhn-valid bank card numbers: UnionPay 62 (16 or 19 digits), Visa 4 and Mastercard 51-55 (16 digits).

    ASSUMPTION: 70 % UnionPay (a fifth of them 19-digit debit-style numbers),
    18 % Visa, 12 % Mastercard.
    """
    scheme = rng.choice(4, size=n, p=[0.56, 0.14, 0.18, 0.12])
    length = np.where(scheme == 1, 19, 16)
    prefix = np.select([scheme <= 1, scheme == 2], [62, 4], default=rng.integers(51, 56, size=n))
    prefix_len = np.where(scheme == 2, 1, 2)
    body_len = length - 1
    rest_len = body_len - prefix_len
    rest = rng.integers(0, 10 ** rest_len.astype(np.int64), dtype=np.int64)
    body = prefix.astype(np.int64) * 10 ** rest_len + rest

    check = np.empty(n, dtype=np.int64)
    for width in (15, 18):
        mask = body_len == width
        check[mask] = luhn_check_digit(body[mask], width)
    number = body * 10 + check
    return pl.Series(number).cast(pl.Utf8)


def emails(rng: np.random.Generator, pinyin: pl.Series, birth_year: np.ndarray) -> pl.Series:
    """Draw e-mail addresses: pinyin handles with a year or digits, or numeric QQ mailboxes."""
    n = pinyin.len()
    domain = pl.Series(_MAIL_DOMAINS).gather(rng.integers(0, len(_MAIL_DOMAINS), size=n))
    year = pl.Series(birth_year.astype(np.int64)).cast(pl.Utf8)
    digits = pl.Series(rng.integers(1, 1000, size=n)).cast(pl.Utf8)
    qq = pl.Series(rng.integers(10**7, 3 * 10**9, size=n, dtype=np.int64)).cast(pl.Utf8)
    style = pl.Series(rng.integers(0, 4, size=n))
    return pl.select(
        pl.when(style == 0)
        .then(qq + "@qq.com")
        .when(style == 1)
        .then(pinyin + year + "@" + domain)
        .when(style == 2)
        .then(pinyin + "_" + digits + "@" + domain)
        .otherwise(pinyin + "@" + domain)
    ).to_series()


def addresses(rng: np.random.Generator, province_idx: np.ndarray) -> pl.Series:
    """Draw home addresses in the capital of each province: road, number, estate, building and room."""
    n = province_idx.size
    province = pl.Series([p.name for p in PROVINCES]).gather(province_idx)
    city = pl.Series([p.city for p in PROVINCES]).gather(province_idx)
    road = pl.Series(ROADS).gather(rng.integers(0, len(ROADS), size=n))
    estate = pl.Series(ESTATES).gather(rng.integers(0, len(ESTATES), size=n))
    number = pl.Series(rng.integers(1, 400, size=n)).cast(pl.Utf8)
    building = pl.Series(rng.integers(1, 30, size=n)).cast(pl.Utf8)
    room = pl.Series(rng.integers(1, 33, size=n) * 100 + rng.integers(1, 5, size=n)).cast(pl.Utf8)
    # Municipalities repeat their name in the city column; write it once.
    city_part = pl.select(pl.when(city.str.starts_with(province)).then(city.str.slice(3)).otherwise(city)).to_series()
    return province + city_part + road + number + "号" + estate + building + "栋" + room + "室"


def employers(rng: np.random.Generator, province_idx: np.ndarray, employment: pl.Series) -> pl.Series:
    """Draw employer names consistent with the employment status.

    Employed debtors get a company in their province's capital, self-employed
    ones a trade, and the others the phrase a bank form would hold
    (``无``, ``退休``, ``在校学生``).
    """
    n = province_idx.size
    city = pl.Series([p.city.split("市")[0] for p in PROVINCES]).gather(province_idx)
    word = pl.Series(_EMPLOYER_WORDS).gather(rng.integers(0, len(_EMPLOYER_WORDS), size=n))
    kind = pl.Series(_EMPLOYER_KINDS).gather(rng.integers(0, len(_EMPLOYER_KINDS), size=n))
    trade = pl.Series(_SELF_EMPLOYED).gather(rng.integers(0, len(_SELF_EMPLOYED), size=n))
    return pl.select(
        pl.when(employment == "employed")
        .then(city + word + kind)
        .when(employment == "self_employed")
        .then(trade)
        .when(employment == "retired")
        .then(pl.lit("退休"))
        .when(employment == "student")
        .then(pl.lit("在校学生"))
        .when(employment == "unemployed")
        .then(pl.lit("无"))
        .otherwise(pl.lit("灵活就业"))
    ).to_series()
