"""`POST auth`, `auth/login`, `auth/loginadmin`, `GET auth/getuser`."""

from __future__ import annotations

from . import render
from .calls import Call
from .errors import ApiError
from .wire import Response, json_response, text_response


def user_login(call: Call) -> Response:
    body = call.body("LoginParameters")
    username, password = body.text("UserName"), body.text("Password")
    if not username or not password:
        raise ApiError(400, "UserName and Password are required.")
    token = call.logins.user_token(username, password)
    if token is None:
        raise ApiError(401, "Invalid username or password.")
    return text_response(token)


def admin_login(call: Call) -> Response:
    body = call.body("AdminTokenParameters")
    beid, key = body.text("BEID"), body.text("WebServicesKey")
    if not beid or not key:
        raise ApiError(400, "BEID and WebServicesKey are required.")
    token = call.logins.admin_token(beid, key)
    if token is None:
        raise ApiError(401, "Invalid BEID or web services key.")
    return text_response(token)


def get_user(call: Call) -> Response:
    person = call.actor()
    if person is None:
        raise ApiError(404, "User not found.")
    return json_response(render.person(call.store, person))
