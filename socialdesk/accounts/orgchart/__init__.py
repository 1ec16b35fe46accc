"""The org chart as one YAML document: business calendars, teams, agents, routing
rules, SLA policies and account owners (docs/ORG.md describes the format).

`parse_org` checks a document, its references to rows already in the database
included; `do_import_org` applies it in one transaction; `export_org` writes the
desk's org chart in the same form, so that importing an export changes nothing.

A key the file gives sets that field (null clears it); a key it leaves out keeps
the stored value, and a new row gets the model's default. Nothing is deleted
unless the import is told to replace, and users are never deleted.
"""

from socialdesk.accounts.orgchart.exporting import export_org
from socialdesk.accounts.orgchart.importing import do_import_org
from socialdesk.accounts.orgchart.parsing import parse_org
from socialdesk.accounts.orgchart.schema import TAGS, OrgError, check_sla, check_tags

__all__ = ["TAGS", "OrgError", "check_sla", "check_tags", "do_import_org", "export_org",
           "parse_org"]
