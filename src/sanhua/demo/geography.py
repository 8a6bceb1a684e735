"""Provinces of the demo portfolio: names, ID area codes, cities and weights.

Each province carries the 6-digit administrative division code of one real
district of its capital (used as the first six digits of synthetic resident
ID numbers), the capital's name for addresses, a loan weight and an income
level. Weights and income levels are rough orders of magnitude for a national
retail book, not statistics: ASSUMPTION.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Province", "PROVINCES", "ROADS", "ESTATES", "province_weights"]


@dataclass(frozen=True)
class Province:
    """One province-level division.

    Parameters
    ----------
    name : str
        Full name as banks write it in the region column (``广东省``).
    district_code : int
        6-digit division code of a district of the capital.
    city : str
        Capital city with its district, used in addresses (``广州市天河区``).
    weight : float
        Relative share of loans (ASSUMPTION: roughly population times retail
        credit depth).
    income_level : float
        Multiplier of the national median income (ASSUMPTION).
    """

    name: str
    district_code: int
    city: str
    weight: float
    income_level: float


PROVINCES: tuple[Province, ...] = (
    Province("北京市", 110105, "北京市朝阳区", 3.0, 1.6),
    Province("天津市", 120101, "天津市和平区", 1.5, 1.2),
    Province("河北省", 130102, "石家庄市长安区", 4.5, 0.85),
    Province("山西省", 140105, "太原市小店区", 2.2, 0.8),
    Province("内蒙古自治区", 150102, "呼和浩特市新城区", 1.6, 0.9),
    Province("辽宁省", 210102, "沈阳市和平区", 3.0, 0.9),
    Province("吉林省", 220102, "长春市南关区", 1.6, 0.8),
    Province("黑龙江省", 230102, "哈尔滨市道里区", 2.0, 0.8),
    Province("上海市", 310115, "上海市浦东新区", 3.2, 1.7),
    Province("江苏省", 320102, "南京市玄武区", 6.5, 1.25),
    Province("浙江省", 330106, "杭州市西湖区", 5.5, 1.35),
    Province("安徽省", 340102, "合肥市瑶海区", 4.0, 0.9),
    Province("福建省", 350102, "福州市鼓楼区", 3.2, 1.1),
    Province("江西省", 360102, "南昌市东湖区", 2.8, 0.85),
    Province("山东省", 370102, "济南市历下区", 6.5, 1.0),
    Province("河南省", 410102, "郑州市中原区", 6.0, 0.8),
    Province("湖北省", 420106, "武汉市武昌区", 4.2, 0.95),
    Province("湖南省", 430102, "长沙市芙蓉区", 4.2, 0.9),
    Province("广东省", 440106, "广州市天河区", 9.5, 1.3),
    Province("广西壮族自治区", 450102, "南宁市兴宁区", 3.0, 0.8),
    Province("海南省", 460106, "海口市龙华区", 0.7, 0.9),
    Province("重庆市", 500103, "重庆市渝中区", 2.8, 0.95),
    Province("四川省", 510104, "成都市锦江区", 5.5, 0.9),
    Province("贵州省", 520102, "贵阳市南明区", 2.2, 0.75),
    Province("云南省", 530102, "昆明市五华区", 2.5, 0.75),
    Province("西藏自治区", 540102, "拉萨市城关区", 0.2, 0.8),
    Province("陕西省", 610103, "西安市碑林区", 2.8, 0.85),
    Province("甘肃省", 620102, "兰州市城关区", 1.4, 0.7),
    Province("青海省", 630102, "西宁市城东区", 0.4, 0.75),
    Province("宁夏回族自治区", 640104, "银川市兴庆区", 0.5, 0.8),
    Province("新疆维吾尔自治区", 650102, "乌鲁木齐市天山区", 1.5, 0.85),
)

# Street and estate words for synthetic addresses; all in GB2312.
ROADS: tuple[str, ...] = (
    "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "文化路", "青年路", "长江路",
    "黄河路", "朝阳路", "光明路", "幸福路", "学府路", "东风路", "迎宾大道", "滨江路", "花园路", "工业大道",
)
ESTATES: tuple[str, ...] = (
    "阳光花园", "锦绣家园", "翠湖小区", "金色港湾", "世纪城", "丽景苑", "明珠苑", "盛世华庭", "绿地新城", "书香名邸",
    "康乐小区", "新村", "桂花园", "万家社区", "滨河花园", "龙湖小区",
)


def province_weights() -> np.ndarray:
    """Return the provinces' loan shares, summing to 1, in :data:`PROVINCES` order."""
    weights = np.array([p.weight for p in PROVINCES], dtype=float)
    return weights / weights.sum()
