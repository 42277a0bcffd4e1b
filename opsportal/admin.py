"""The task queue's admin pages (django-q2): read-only for everyone, superusers included.

django-q2's own pages let anyone with the model permissions add a schedule whose `func`
is any importable callable (`os.mkdir`, …) that the worker then runs, and resubmit or
delete tasks. Our schedules are defined in code (each app's schedule migration), so
here the schedules, queued, successful and failed tasks can be looked at, never changed.
"""

from django.contrib import admin
from django_q.conf import Conf
from django_q.models import Failure, OrmQ, Schedule, Success

from audit.admin import HistoryAdmin

for model in (Schedule, Success, Failure, OrmQ):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class _ReadOnlyTaskAdmin(HistoryAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def get_actions(self, request):
        return {}  # django-q2's "resubmit" would run a stored callable again


@admin.register(Schedule)
class ScheduleAdmin(_ReadOnlyTaskAdmin):
    list_display = ["id", "name", "func", "schedule_type", "minutes", "repeats", "next_run"]
    list_filter = ["schedule_type"]
    search_fields = ["name", "func"]


@admin.register(Success)
class SuccessAdmin(_ReadOnlyTaskAdmin):
    list_display = ["name", "func", "group", "started", "stopped"]
    search_fields = ["name", "func", "group"]
    list_filter = ["group"]


@admin.register(Failure)
class FailureAdmin(_ReadOnlyTaskAdmin):
    list_display = ["name", "func", "group", "started", "stopped"]
    search_fields = ["name", "func", "group"]
    list_filter = ["group"]


if Conf.ORM or Conf.TESTING:

    @admin.register(OrmQ)
    class QueueAdmin(_ReadOnlyTaskAdmin):
        list_display = ["id", "key", "name", "func", "lock", "task_id"]

        def get_queryset(self, request):
            return super().get_queryset(request).using(Conf.ORM)
