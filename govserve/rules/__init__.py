"""The rules engine: CEL conditions and formulas, compiled once and evaluated per request.

Pure Python over the ``common-expression-language`` library, no ORM. The
public interface (names and signatures agreed with the definition validator)
is re-exported here; see docs/rules.md for the language analysts write.
"""

from govserve.rules.determinants import determinant_order, evaluate_determinants
from govserve.rules.engine import (
    CompiledExpression,
    EvaluationContext,
    build_context,
    compile_expression,
    evaluate,
    evaluate_bool,
    evaluate_condition,
)
from govserve.rules.errors import (
    DeterminantCycleError,
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    RulesError,
    UnknownTimeZoneError,
    ValueConversionError,
)
from govserve.rules.functions import PLATFORM_FUNCTIONS, round_half_up
from govserve.rules.typecheck import check_expression_types, ensure_expression_types, sample_value

__all__ = [
    "PLATFORM_FUNCTIONS",
    "CompiledExpression",
    "DeterminantCycleError",
    "EvaluationContext",
    "ExpressionEvaluationError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "RulesError",
    "UnknownTimeZoneError",
    "ValueConversionError",
    "build_context",
    "check_expression_types",
    "compile_expression",
    "determinant_order",
    "ensure_expression_types",
    "evaluate",
    "evaluate_bool",
    "evaluate_condition",
    "evaluate_determinants",
    "round_half_up",
    "sample_value",
]
