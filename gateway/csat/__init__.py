"""Customer satisfaction surveys: scheduled when a ticket is solved, sent through the
outbox on the customer's own channel after a delay, answered once (docs/reports.md).

    SurveyError
    ├── SurveyLinkInvalid   the token was altered or is not one of ours
    ├── SurveyLinkExpired   the token's validity is over
    └── SurveyClosed        already answered (single use), or never sent
"""
