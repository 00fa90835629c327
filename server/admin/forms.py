"""The admin pages' forms (Flask-WTF: validation and a CSRF token in every form).

Addresses are checked with client_py's rules (the same ones recipients go through),
domains are normalised as the recipient rules compare them, ranges are CIDRs."""

from __future__ import annotations

import ipaddress
import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from client_py.recipients import is_valid_address, normalize_domain

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MIN_PASSWORD = 8


def _items(text: str | None) -> list[str]:
    return [item for item in re.split(r"[\s,;]+", text or "") if item]


def email_address(form, field) -> None:
    field.data = (field.data or "").strip().lower()
    if not is_valid_address(field.data):
        raise ValidationError("Enter an email address like ann@example.com.")


def parse_domains(text: str | None) -> list[str]:
    domains = []
    for item in _items(text):
        domain = normalize_domain(item)
        labels = domain.split(".")
        if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
            raise ValidationError(f"{item!r} is not a domain name.")
        domains.append(domain)
    return sorted(set(domains))


def parse_ranges(text: str | None) -> list[str]:
    ranges = []
    for item in _items(text):
        try:
            ranges.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValidationError(f"{item!r} is not an address range (use CIDR, like 203.0.113.0/24).")
    return ranges


def _domains(form, field) -> None:
    parse_domains(field.data)


def _ranges(form, field) -> None:
    parse_ranges(field.data)


class NewPasswordMixin:
    password = PasswordField("Password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD, max=200, message=f"Use at least {MIN_PASSWORD} characters.")])
    confirm = PasswordField("Password again", validators=[
        DataRequired(), EqualTo("password", message="The two passwords differ.")])


class SetupForm(NewPasswordMixin, FlaskForm):
    org_name = StringField("Organisation name", validators=[DataRequired(), Length(max=200)])
    internal_domains = TextAreaField("Internal email domains", validators=[_domains],
                                     description="Mail to these domains is internal: not tracked automatically.")
    office_ranges = TextAreaField("Office address ranges", validators=[_ranges],
                                  description="Opens from these ranges are your colleagues, not recipients.")
    name = StringField("Your name", validators=[Length(max=200)])
    email = StringField("Your email address", validators=[DataRequired(), email_address])


class AcceptInviteForm(NewPasswordMixin, FlaskForm):
    name = StringField("Your name", validators=[Length(max=200)])


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class SigninForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(), email_address])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class InviteForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(), email_address])
    is_admin = BooleanField("Admin (may manage users and the organisation)")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
