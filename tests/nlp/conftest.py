"""One blank English pipeline for the component tests (spacy.blank takes a second or two)."""

import pytest
import spacy


@pytest.fixture(scope="session")
def nlp():
    return spacy.blank("en")
