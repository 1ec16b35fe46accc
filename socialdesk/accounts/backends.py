"""Every password check goes through the throttle, whichever page asks for it."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from socialdesk.accounts import throttle


class LockedOut(PermissionDenied):
    """This username is locked out from this address: the password is not even checked."""


class ThrottledModelBackend(ModelBackend):
    """Django's username and password check behind the throttle (accounts.throttle):
    refused unchecked while a lockout covers this username from this address. A failure
    is counted; a success clears this username's failures from this address. The
    lockout that refuses the attempt, or the next one after a failure, is left on the
    request (`login_lockout`) for the login page to show."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip = throttle.client_ip(request) if request is not None else None
        lockout = throttle.current_lockout(throttle.LOGIN, username, ip)
        if lockout is not None:
            if request is not None:
                request.login_lockout = lockout
            # Django's authenticate() stops at PermissionDenied: no other backend tries.
            raise LockedOut(lockout.message)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout = throttle.do_record_failure(throttle.LOGIN, username, ip)
            if lockout is not None and request is not None:
                request.login_lockout = lockout
        else:
            throttle.do_clear_failures(username, ip)
        return user
