"""Flask extensions, created once and bound to an app in ``create_app``. (The API's
flask-smorest object is server/api/base.py's ``api``.)"""

from flask_cors import CORS
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
cors = CORS()
