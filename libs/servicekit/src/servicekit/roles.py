"""The role sets the services authorize by, named once. A route says who may call it
(`dependencies=[roles.shapers]`); what a caller may see of a resource is the service's
own `sees_*` rule on top (404 alike for missing and not theirs)."""

from servicekit.auth import Role, require_roles

people = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)
"""Any signed-in person: what each sees is narrowed by the resource's own rule."""
overseers = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.VIEWER)
"""Who read across people: everyone but a rep and an integration."""
shapers = require_roles(Role.ADMIN, Role.PLANNER)
"""Who shape the org, goals, rules and plans."""
planners = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER)
"""Who plan goals for the units they lead, and above."""
proposers = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP)
"""Who may propose a change to a goal."""
actors = require_roles(Role.ADMIN, Role.MANAGER, Role.REP)
"""Who act on their alerts (acknowledge, snooze)."""
judges = require_roles(Role.ADMIN, Role.MANAGER)
"""Who award and judge people (badges, scorecards)."""
readers_of_everything = require_roles(Role.ADMIN, Role.PLANNER, Role.VIEWER)
"""Who read every person's data, not only their own subtree's."""
admins = require_roles(Role.ADMIN)
integrations = require_roles(Role.ADMIN, Role.INTEGRATION)
"""Systems that push data in (and admins, who may do the same by hand)."""
reference_readers = require_roles(Role.ADMIN, Role.INTEGRATION, Role.PLANNER, Role.VIEWER)
"""Who read shared reference data such as exchange rates."""
