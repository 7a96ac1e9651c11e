"""The whole check as one spaCy component for a user's own spaCy / medspaCy pipeline.

    import doc_checker.component  # registers the factory (also found through spaCy's entry points)
    nlp.add_pipe("doc_checker")   # config: {"patterns_dir": None, "profile": None}
    doc = nlp(text)
    doc._.doc_checker             # the result, as CheckResult.to_dict()

The check runs on the Doc's text with the checker's own pipeline (its clinical tokenizer,
sentences, sections, targets, ConText), so the user's tokenizer and components are untouched
and the result is the same as ``Checker().check(doc.text)``. ``to_disk`` saves the rules
themselves (every rule file and the profile), not a path: ``spacy.load`` of the saved pipeline
needs nothing but that directory.

The result is kept on the Doc as its JSON text (``doc.user_data["doc_checker"]``), which
``doc._.doc_checker`` parses: a DocBin keeps a string safely, while medspaCy registers global
msgpack decoders that rewrite any saved dict with a ``section`` key (every evidence passage has
one) into its own Section object.
"""

import json
import shutil
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc

from .checker import Checker

EXTENSION = "doc_checker"
_USER_DATA_KEY = "doc_checker"
_PATTERNS = "patterns"
_PROFILE = "profile.json"


def _result_of(doc: Doc) -> Optional[Dict[str, Any]]:
    raw = doc.user_data.get(_USER_DATA_KEY)
    return None if raw is None else json.loads(raw)


class DocCheckerComponent:
    """Sets ``doc._.doc_checker`` to the check's result (a dict) for each Doc."""

    def __init__(
        self,
        nlp: Language,
        name: str = "doc_checker",
        *,
        patterns_dir: Optional[str] = None,
        profile: Optional[str] = None,
    ) -> None:
        self.name = name
        self.patterns_dir = patterns_dir
        self.profile: Union[None, str, Dict[str, Any]] = profile
        self._checker: Optional[Checker] = None  # built at first use or by from_disk
        if not Doc.has_extension(EXTENSION):
            Doc.set_extension(EXTENSION, getter=_result_of)

    @property
    def checker(self) -> Checker:
        if self._checker is None:
            self._checker = Checker(profile=self.profile, patterns=self.patterns_dir)
        return self._checker

    def __call__(self, doc: Doc) -> Doc:
        doc.user_data[_USER_DATA_KEY] = json.dumps(self.checker.check(doc.text).to_dict())
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterable[Doc]:
        for doc in docs:
            yield self(doc)

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> None:
        """Save every rule file of the ruleset (its whole directory tree of JSON) and the
        profile."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        source = Path(self.checker.ruleset.directory)
        target = path / _PATTERNS
        if target.exists():
            shutil.rmtree(target)
        for rule_file in sorted(source.rglob("*.json")):
            dest = target / rule_file.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(rule_file, dest)
        profile = self.profile
        if profile is not None and not isinstance(profile, dict):
            profile = json.loads(Path(profile).read_text(encoding="utf-8"))
        (path / _PROFILE).write_text(json.dumps(profile), encoding="utf-8")

    def from_disk(
        self, path: Union[str, Path], *, exclude: Iterable[str] = ()
    ) -> "DocCheckerComponent":
        path = Path(path)
        profile = json.loads((path / _PROFILE).read_text(encoding="utf-8"))
        self.patterns_dir = str(path / _PATTERNS)
        self.profile = profile
        self._checker = Checker(profile=profile, patterns=self.patterns_dir)
        return self


@Language.factory(
    "doc_checker",
    assigns=[f"doc._.{EXTENSION}"],
    default_config={"patterns_dir": None, "profile": None},
)
def make_doc_checker(
    nlp: Language, name: str, patterns_dir: Optional[str], profile: Optional[str]
) -> DocCheckerComponent:
    return DocCheckerComponent(nlp, name, patterns_dir=patterns_dir, profile=profile)


__all__ = ["DocCheckerComponent", "make_doc_checker", "EXTENSION"]
