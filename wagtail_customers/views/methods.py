"""Which HTTP methods the plugin's views answer: GET (and HEAD), POST, and OPTIONS on class-based views.

Django's generic views also take PUT (``ProcessFormView.put`` runs ``post``) and DELETE
(``DeletionMixin.delete`` deletes at once, with no confirmation), and a function view that only tells
GET from "anything else" treats PUT and DELETE as POST. No plugin view offers either: they answer 405.
Applied to every plugin URL: hand-written URL lists through :func:`refuse_unoffered_methods`,
viewsets through :class:`OfferedMethodsViewSetMixin`.
"""

from functools import update_wrapper, wraps

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

#: The methods a plugin view may offer at most; a view that documents another adds it here.
OFFERED_METHODS = ("GET", "HEAD", "POST", "OPTIONS")


def class_view_methods(view_class):
    """The methods of ``OFFERED_METHODS`` a class-based view has a handler for (HEAD comes with GET)."""
    handled = {name for name in view_class.http_method_names if hasattr(view_class, name)}
    if "get" in handled:
        handled.add("head")
    return [method for method in OFFERED_METHODS if method.lower() in handled]


def offered_methods(view_func):
    """405 for any method outside ``OFFERED_METHODS`` (and OPTIONS on function views); OPTIONS on a
    class-based view names only the methods it offers (Django's own answer would list PUT and DELETE)."""
    view_class = getattr(view_func, "view_class", None)
    if view_class is None:
        return require_http_methods([method for method in OFFERED_METHODS if method != "OPTIONS"])(view_func)
    allowed = class_view_methods(view_class)

    @wraps(view_func)
    def answer_options(request, *args, **kwargs):
        if request.method == "OPTIONS":
            return HttpResponse(headers={"Allow": ", ".join(allowed)})
        return view_func(request, *args, **kwargs)

    return require_http_methods(allowed)(answer_options)


def refuse_unoffered_methods(urlpatterns):
    """Apply :func:`offered_methods` to every view of a URL list (once, however often it is called)."""
    for pattern in urlpatterns:
        if hasattr(pattern, "url_patterns"):
            refuse_unoffered_methods(pattern.url_patterns)
        callback = getattr(pattern, "callback", None)
        if callback is not None and not getattr(callback, "wc_offered_methods", None):
            pattern.callback = update_wrapper(offered_methods(callback), callback)
            pattern.callback.wc_offered_methods = True
    return urlpatterns


class OfferedMethodsViewSetMixin:
    """For the plugin's viewsets: every URL they add answers 405 to PUT, PATCH and DELETE."""

    def get_urlpatterns(self):
        return refuse_unoffered_methods(super().get_urlpatterns())
