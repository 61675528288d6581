"""(being built)"""

from flask import Blueprint

blueprint = Blueprint("ledger_reports", __name__)
