"""When a contrast mention's sentence shows the contrast went in (issue 12: contrast drawn up,
on the tray or in a supplies list but never injected). The rule is
``elements._contrast_cue_reason`` over the kinds of cue in the sentence (patterns/targets/
cues.json)."""

from __future__ import annotations

import pytest

from doc_checker.decide.elements import _contrast_cue_reason


@pytest.mark.parametrize(
    "cues, reason",
    [
        (set(), "no_confirmation"),  # 'Omnipaque 300' alone
        ({"INJECT_CUE"}, None),  # 'contrast was injected'
        ({"CONFIRM_CUE"}, None),  # 'contrast confirmed the position'
        ({"VOLUME_CUE"}, None),  # '2 mL Omnipaque 300'
        ({"PREPARED_CUE"}, "prepared_only"),  # 'contrast available on the tray'
        ({"PREPARED_CUE", "VOLUME_CUE"}, "prepared_only"),  # 'Omnipaque 300 10 mL vial'
        # 'contrast was available; the position was confirmed by aspiration'
        ({"PREPARED_CUE", "CONFIRM_CUE", "VOLUME_CUE"}, "prepared_only"),
        # 'Omnipaque drawn up; 1.5 mL was then injected, outlining the bursa'
        ({"PREPARED_CUE", "VOLUME_CUE", "INJECT_CUE"}, None),
        # a rule set that names its confirmation cue otherwise still confirms
        ({"PREPARED_CUE", "CONFIRMATION"}, None),
    ],
)
def test_a_prepared_contrast_counts_only_when_a_word_says_it_went_in(cues, reason):
    assert _contrast_cue_reason(frozenset(cues)) == reason
