"""(being built)"""

from flask import Blueprint

blueprint = Blueprint("validations", __name__)
