"""The parameter wizard: from a model's card to "Generate", one form per user.

- `form`: the form as kept in the FSM storage, and the order of its steps (pure)
- `screens`: the step, settings and confirmation screens
- `flow`: where a form goes next; saving it and showing its screen (`proceed`)
- `steps`: what each step button and answer does to the form
- `generate`: the last step, "Generate": one job per form
- `router`: the wizard's aiogram router
"""
