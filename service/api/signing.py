"""(being built)"""

from flask import Blueprint

blueprint = Blueprint("signing", __name__)
