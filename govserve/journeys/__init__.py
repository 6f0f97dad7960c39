"""The citizen journey: applications, answers, page routing, submission and the applicant's pages."""
