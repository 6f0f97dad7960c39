"""The error a field component reports for an answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one answer, worded for the person who gave it.

    ``code`` is stable (journey events and the API carry it; the value never
    is): ``required``, ``format``, ``incomplete``, ``year_digits``,
    ``real_date``, ``decimal_places``, ``too_large``, ``min_length``,
    ``max_length``, ``pattern``, ``min``, ``max``, ``before``, ``after``,
    ``min_age``, ``max_age``, ``min_selected``, ``max_selected``,
    ``exclusive``, ``invalid_option``, ``type``, ``max_size_mb``, ``types``,
    ``min_items``, ``max_items``, ``rule_<n>`` (the n-th custom rule, from 0),
    and for addresses ``<part>_required`` / ``<part>_format`` /
    ``<part>_too_long``. ``anchor`` is the HTML id the error summary links to
    (the first input at fault; for JSON answers, the answer's path).
    ``parts`` names the inputs at fault inside a composite field (``day``,
    ``month``, ``year``; ``line1``, ``town``...); empty means the whole field.
    """

    field_id: str
    code: str
    message: str
    anchor: str
    parts: tuple[str, ...] = ()
