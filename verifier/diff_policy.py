"""The difference-analysis policy: pyHanko's standard rules, plus the later changes that PDF 2.0 and ETSI allow
but stock pyHanko refuses.

ISO 32000-2, 12.8.2.2 (DocMDP) and 12.8.4 (modification detection), ETSI EN 319 142-1, 5.4 and 6.3:
after an approval signature without DocMDP, or a certification with P=3, adding, changing or deleting
annotations (comments, "bút phê", stamps) is a permitted change; it does not alter the signed content (the
page content streams and resources stay byte for byte the same). Stock pyHanko has no rule for annotations,
so any added comment makes a signature "modified"; and it refuses any revision that frees an object, which
iText does on every incremental save. Here:

- `AnnotationRule` clears, at the ANNOTATIONS level, a page whose dictionary changed only in `/Annots`, its
  `/Annots` array, and the non-widget annotations added or updated in that revision together with the new
  objects they use (their appearance streams). An object of the signed revision that is overwritten is never
  cleared by this rule, so replacing an appearance stream that the page content also uses (pyHanko's "sneaky"
  files) stays an unexplained change. Widgets stay with pyHanko's form rules (form filling, FieldMDP locks).
- `FreedObjectRule` clears a freed object that nothing in the new revision refers to any more: the change
  that removed the last reference (an annotation taken out of `/Annots`) is judged by the other rules.
  A freed object that is still referenced (it would read as null) stays unexplained.

The level of a revision is the highest level any of its changed objects needed (pyHanko's
`StandardDiffPolicy`); the validation policy (policies.validation, narrowed by DocMDP) decides what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.diff_analysis.commons import compare_dicts
from pyhanko.sign.diff_analysis.policies import DEFAULT_DIFF_POLICY, StandardDiffPolicy
from pyhanko.sign.diff_analysis.rules.form_field_rules import DSSCompareRule
from pyhanko.sign.diff_analysis import SuspiciousModification
from pyhanko.sign.diff_analysis.rules_api import QualifiedWhitelistRule, ReferenceUpdate

_PAGE_KEYS_FOR_ANNOTATIONS = frozenset({"/Annots"})


def _page_refs(resolver: HistoricalResolver) -> list[generic.Reference] | None:
    """The page objects of a revision, in order; None when the tree is not made of indirect references."""
    found: list[generic.Reference] = []
    seen: set[generic.Reference] = set()

    def walk(value, depth: int) -> bool:
        if not isinstance(value, generic.IndirectObject) or depth > 64:
            return False
        ref = value.reference
        if ref in seen:
            return False
        seen.add(ref)
        node = value.get_object()
        if not isinstance(node, generic.DictionaryObject):
            return False
        if "/Kids" in node:
            kids = node["/Kids"]
            return all(walk(kid, depth + 1) for kid in node.raw_get("/Kids").get_object()) if isinstance(
                kids, generic.ArrayObject) else False
        found.append(ref)
        return True

    try:
        return found if walk(resolver.root.raw_get("/Pages"), 0) else None
    except (KeyError, AttributeError, TypeError):
        return None


def _annotation_refs(page: generic.DictionaryObject) -> list[generic.Reference] | None:
    """The annotations of a page as references; None when one is a direct dictionary (not analysable here)."""
    if "/Annots" not in page:
        return []
    annots = page["/Annots"]
    if not isinstance(annots, generic.ArrayObject):
        return None
    refs = []
    for item in page.raw_get("/Annots").get_object() if isinstance(page.raw_get("/Annots"), generic.IndirectObject) \
            else page.raw_get("/Annots"):
        if not isinstance(item, generic.IndirectObject):
            return None
        refs.append(item.reference)
    return refs


def _is_widget(annotation) -> bool:
    return isinstance(annotation, generic.DictionaryObject) and annotation.get("/Subtype") == "/Widget"


def _new_dependencies(new: HistoricalResolver, value) -> set[generic.Reference]:
    """The objects introduced in this revision that `value` uses; none when a reference dangles (nothing is
    then cleared through it, so what it would hide stays unexplained)."""
    try:
        return new.collect_dependencies(value, since_revision=new.revision)
    except KeyError:
        return set()


def _existed_in(old: HistoricalResolver, ref: generic.Reference) -> bool:
    return old.reader.xrefs.get_historical_ref(ref, old.revision) is not None


class AnnotationRule(QualifiedWhitelistRule):
    """Annotations added, changed or removed on pages whose content is unchanged (see the module docstring)."""

    def apply_qualified(self, old: HistoricalResolver, new: HistoricalResolver
                        ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        changed = new.explicit_refs_in_revision()
        old_pages, new_pages = _page_refs(old), _page_refs(new)
        if old_pages is None or old_pages != new_pages:
            return  # pages added, removed or moved: never an annotation change
        for page_ref in new_pages:
            yield from self._page(old, new, page_ref, changed)

    def _page(self, old, new, page_ref, changed) -> Iterator[tuple[ModificationLevel, ReferenceUpdate]]:
        old_page, new_page = old(page_ref), new(page_ref)
        old_annots, new_annots = _annotation_refs(old_page), _annotation_refs(new_page)
        if old_annots is None or new_annots is None:
            return
        added = [ref for ref in new_annots if ref not in old_annots]
        # Only widgets added (a new signature or form field) is form filling; anything else on /Annots
        # (a comment added, an annotation removed) is an annotation change.
        level = ModificationLevel.FORM_FILLING if set(old_annots) <= set(new_annots) and all(
            _is_widget(new(ref)) for ref in added) else ModificationLevel.ANNOTATIONS
        ignored = _PAGE_KEYS_FOR_ANNOTATIONS
        if "/Tabs" not in old_page and new_page.get("/Tabs") == "/S":
            # ISO 32000-2, 12.5 (/Tabs): structure order, what PDF/UA requires once a page has annotations
            # (iText sets it when it adds a field); it orders keyboard navigation, not what the page shows.
            ignored = ignored | {"/Tabs"}
        widgets_only = level is ModificationLevel.FORM_FILLING and ignored is _PAGE_KEYS_FOR_ANNOTATIONS
        if page_ref in changed:
            if not compare_dicts(old_page, new_page, ignored=ignored, raise_exc=False):
                return  # the page itself changed (content, resources, boxes): not an annotation change
            if not widgets_only:
                # Widgets only (a signature, a document timestamp): pyHanko's form rules clear the page at the
                # level they belong to (a document timestamp's at LTA); a second approval would raise it.
                yield level, ReferenceUpdate(page_ref)
        raw = new_page.raw_get("/Annots") if "/Annots" in new_page else None
        if isinstance(raw, generic.IndirectObject) and raw.reference in changed:
            old_raw = old_page.raw_get("/Annots") if "/Annots" in old_page else None
            # the array object itself may be rewritten, but must not be some other object of the signed revision
            if not _existed_in(old, raw.reference) or (
                    isinstance(old_raw, generic.IndirectObject) and old_raw.reference == raw.reference):
                if not widgets_only:
                    yield level, ReferenceUpdate(raw.reference)
        for ref in new_annots:
            if ref not in changed:
                continue
            annotation = new(ref)
            if _is_widget(annotation) or not isinstance(annotation, generic.DictionaryObject):
                continue  # form fields are judged by pyHanko's form rules
            if _existed_in(old, ref):
                if ref not in old_annots or _is_widget(old(ref)):
                    continue  # an object of the signed revision turned into an annotation: unexplained
            yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(ref)
            for dependency in _new_dependencies(new, annotation):
                if dependency in changed and not _existed_in(old, dependency):
                    yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(dependency)


class ValidationDataRule(QualifiedWhitelistRule):
    """DSS updates (ETSI EN 319 142-1, 5.4.2), also from producers whose DSS pyHanko's strict rule refuses (VRI
    keys rewritten or in lower case, VRI entries replaced, a DSS that references objects of earlier
    revisions). pyHanko's `DSSCompareRule` is asked first; when it refuses, a changed object is still cleared
    at the LTA level when it is reachable from the new /DSS and is either new or was already part of the
    signed revision's DSS: validation data can never overwrite a page, an annotation or a field this way."""

    def __init__(self) -> None:
        self._strict = DSSCompareRule()

    def apply_qualified(self, old: HistoricalResolver, new: HistoricalResolver
                        ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        try:
            updates = list(self._strict.apply(old, new))
        except SuspiciousModification:
            updates = list(self._lenient(old, new))
        for update in updates:
            yield ModificationLevel.LTA_UPDATES, update

    @staticmethod
    def _lenient(old: HistoricalResolver, new: HistoricalResolver) -> Iterator[ReferenceUpdate]:
        try:
            new_dss = new.root.raw_get("/DSS")
        except KeyError:
            return
        try:
            old_dss = old.root.raw_get("/DSS")
            previous = old.collect_dependencies(old_dss) | (
                {old_dss.reference} if isinstance(old_dss, generic.IndirectObject) else set())
        except KeyError:
            previous = set()
        changed = new.explicit_refs_in_revision()
        seen: set[generic.Reference] = set()
        stack = [new_dss]
        while stack:
            value = stack.pop()
            if isinstance(value, generic.IndirectObject):
                ref = value.reference
                if ref in seen:
                    continue
                seen.add(ref)
                if ref in changed:
                    if _existed_in(old, ref) and ref not in previous:
                        continue  # an object of the signed revision outside its DSS: not validation data
                    yield ReferenceUpdate(ref)
                elif _existed_in(old, ref):
                    continue  # unchanged object of an earlier revision (a DSS may reference those)
                value = value.get_object()
            if isinstance(value, generic.DictionaryObject):
                stack.extend(value.raw_get(k) for k in value)
            elif isinstance(value, generic.ArrayObject):
                stack.extend(value)


# Keys that point out of the structure tree (to pages, annotations, content): never followed.
_STRUCT_EXTERNAL = frozenset({"/P", "/Pg", "/Obj", "/Stm", "/StmOwn", "/Parent", "/RoleMap", "/ClassMap"})


def _struct_kind(value) -> str | None:
    if isinstance(value, generic.ArrayObject):
        return "array"
    if not isinstance(value, generic.DictionaryObject):
        return None
    kind = value.get("/Type")
    if kind in ("/StructTreeRoot", "/StructElem", "/OBJR", "/MCR"):
        return str(kind)
    if "/S" in value and "/P" in value:
        return "/StructElem"  # /Type is optional in a structure element (ISO 32000-2, 14.7.2)
    if "/Nums" in value or ("/Kids" in value and "/Limits" in value):
        return "number-tree"
    return None


def _kept(old_items, new_items) -> bool:
    """Every reference of the old array is still in the new one (elements may be added, none removed)."""
    def refs(items):
        return [i.reference for i in items if isinstance(i, generic.IndirectObject)]
    return set(refs(old_items)) <= set(refs(new_items))


class StructureTreeRule(QualifiedWhitelistRule):
    """Structure elements added to a tagged PDF's logical structure (ISO 32000-2, 14.7) for annotations and
    fields added after signing: the structure tree root and elements may gain children and a new parent tree,
    but no element of the signed revision may lose one (removing tagged content stays unexplained)."""

    def apply_qualified(self, old: HistoricalResolver, new: HistoricalResolver
                        ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        try:
            raw = new.root.raw_get("/StructTreeRoot")
        except KeyError:
            return
        if not isinstance(raw, generic.IndirectObject):
            return
        changed = new.explicit_refs_in_revision()
        approved: list[generic.Reference] = []
        seen: set[generic.Reference] = set()
        stack = [raw]
        while stack:
            value = stack.pop()
            if isinstance(value, generic.IndirectObject):
                ref = value.reference
                if ref in seen or ref not in changed:
                    continue  # unchanged since the signed revision: nothing below it to clear
                seen.add(ref)
                current = new(ref)
                kind = _struct_kind(current)
                if kind is None:
                    continue
                if _existed_in(old, ref):
                    previous = old(ref)
                    if _struct_kind(previous) != kind or not self._grows(previous, current):
                        continue
                approved.append(ref)
                value = current
            if isinstance(value, generic.DictionaryObject):
                stack.extend(value.raw_get(k) for k in value if k not in _STRUCT_EXTERNAL)
            elif isinstance(value, generic.ArrayObject):
                stack.extend(value)
        for ref in approved:
            yield ModificationLevel.FORM_FILLING, ReferenceUpdate(ref)

    @staticmethod
    def _grows(previous, current) -> bool:
        if isinstance(previous, generic.ArrayObject):
            return _kept(previous, current)
        ignored = frozenset({"/K", "/ParentTree", "/ParentTreeNextKey", "/Nums", "/Kids", "/Limits"})
        if not compare_dicts(previous, current, ignored=ignored, raise_exc=False):
            return False
        old_k, new_k = previous.get("/K"), current.get("/K")
        if isinstance(old_k, generic.ArrayObject):
            return isinstance(new_k, generic.ArrayObject) and _kept(old_k, new_k)
        if isinstance(previous.raw_get("/K") if "/K" in previous else None, generic.IndirectObject):
            # a single child became an array of children that still holds it
            return isinstance(new_k, generic.ArrayObject) and previous.raw_get("/K").reference in {
                i.reference for i in new_k if isinstance(i, generic.IndirectObject)} or (
                "/K" in current and current.raw_get("/K") == previous.raw_get("/K"))
        return old_k is None or old_k == new_k or isinstance(new_k, generic.ArrayObject)


_WIDGET_APPEARANCE_KEYS = frozenset({"/AP", "/AS", "/DA", "/MK"})


class FilledFieldWidgetRule(QualifiedWhitelistRule):
    """The widgets of a field whose value was filled in this revision, when the widgets are separate objects
    (the field's /Kids): their new appearance (/AP, /AS, /DA, /MK) and the new objects it uses. pyHanko clears
    the value change itself (and refuses it for a locked field) but only the appearance of a field that is its
    own widget. Without a value change, a new appearance stays unexplained (the "replace" shadow attack)."""

    def apply_qualified(self, old: HistoricalResolver, new: HistoricalResolver
                        ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        changed = new.explicit_refs_in_revision()
        try:
            fields = new.root["/AcroForm"].raw_get("/Fields")
        except (KeyError, TypeError):
            return
        stack = list(fields.get_object()) if isinstance(fields, (generic.ArrayObject, generic.IndirectObject)) else []
        seen: set[generic.Reference] = set()
        while stack:
            item = stack.pop()
            if not isinstance(item, generic.IndirectObject) or item.reference in seen:
                continue
            ref = item.reference
            seen.add(ref)
            field = new(ref)
            if not isinstance(field, generic.DictionaryObject) or "/Kids" not in field:
                continue
            raw_kids = field.raw_get("/Kids")
            raw_kids = raw_kids.get_object() if isinstance(raw_kids, generic.IndirectObject) else raw_kids
            widgets = [k for k in raw_kids if isinstance(k, generic.IndirectObject) and "/T" not in k.get_object()]
            stack.extend(k for k in raw_kids if isinstance(k, generic.IndirectObject) and "/T" in k.get_object())
            if not widgets or ref not in changed or not _existed_in(old, ref) or field.get("/FT") == "/Sig":
                continue
            if old(ref).get("/V") == field.get("/V"):
                continue
            for widget in widgets:
                wref = widget.reference
                if wref not in changed or not _existed_in(old, wref):
                    continue
                if not compare_dicts(old(wref), new(wref), ignored=_WIDGET_APPEARANCE_KEYS, raise_exc=False):
                    continue
                yield ModificationLevel.FORM_FILLING, ReferenceUpdate(wref)
                for dependency in _new_dependencies(new, new(wref)):
                    if dependency in changed and not _existed_in(old, dependency):
                        yield ModificationLevel.FORM_FILLING, ReferenceUpdate(dependency)


class FreedObjectRule(QualifiedWhitelistRule):
    """A freed object that nothing in the new revision refers to (see the module docstring)."""

    def apply_qualified(self, old: HistoricalResolver, new: HistoricalResolver
                        ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        freed = new.refs_freed_in_revision()
        if not freed:
            return
        reachable = new.collect_dependencies(new.root)
        try:
            info = new.reader.trailer.raw_get("/Info", revision=new.revision)
        except KeyError:
            info = None
        if isinstance(info, generic.IndirectObject):
            reachable |= {info.reference} | new.collect_dependencies(info)
        for ref in freed:
            if ref not in reachable:
                yield ModificationLevel.LTA_UPDATES, ReferenceUpdate(ref)


def _is_stock_dss_rule(rule) -> bool:
    return isinstance(getattr(rule, "rule", None), DSSCompareRule)


DIFF_POLICY = StandardDiffPolicy(
    global_rules=[*(rule for rule in DEFAULT_DIFF_POLICY.global_rules if not _is_stock_dss_rule(rule)),
                  ValidationDataRule(), AnnotationRule(), StructureTreeRule(), FilledFieldWidgetRule(),
                  FreedObjectRule()],
    form_rule=DEFAULT_DIFF_POLICY.form_rule,
    # Freed objects are still "changes to explain" (pyHanko registers them); FreedObjectRule explains them.
    reject_object_freeing=False,
)
