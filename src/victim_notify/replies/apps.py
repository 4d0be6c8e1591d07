from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "victim_notify.replies"
    label = "replies"
    verbose_name = "Replies from victims"
