"""Reports of ``feint evaluate``: the report dict (JSON, with a schema), Markdown and HTML writers."""

from feint.pipeline.report.build import SCHEMA_ID, build_report
from feint.pipeline.report.validate import load_schema, validate
from feint.pipeline.report.writers import write_reports

__all__ = ["SCHEMA_ID", "build_report", "load_schema", "validate", "write_reports"]
