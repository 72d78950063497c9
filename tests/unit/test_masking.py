"""G10 with G8: a list masks a subject's name and numbers (张*, 138****0001); what a read shows in place
of data it cannot give ("[erased]" after crypto-shredding, "[unreadable]", "[encrypted]") is shown as it
is. Before, an erased subject's row in the dashboard's drill-down read "[*******" and "[er****sed]"."""
from __future__ import annotations

from huifang.core import privacy
from huifang.core.phones import MARKERS, mask_name, mask_phone
from huifang.service.dashboard import masked


def test_the_markers_are_privacys_own():
    assert {privacy.ERASED, privacy.UNREADABLE, privacy.NO_KEY} == MARKERS


def test_names_and_numbers_are_masked_and_markers_are_not():
    assert mask_name("张三丰") == "张**" and mask_name("李") == "李*" and mask_name("") == ""
    assert mask_phone("13800000001") == "138****0001" and mask_phone("6677") == "**77"
    for marker in MARKERS:
        assert mask_name(marker) == marker and mask_phone(marker) == marker


def test_an_erased_subject_in_the_dashboards_drill_down():
    assert masked({"name": privacy.ERASED, "phones": [privacy.ERASED]}) == {"name": "[erased]", "phone": "[erased]"}
    assert masked({"name": "王伟", "phones": ["13800000001", "010-66778899"]}) == \
        {"name": "王*", "phone": "138****0001, 010****8899"}
    assert masked({"name": "", "phones": []}) == {"name": "-", "phone": "-"}
