"""Training: courses a unit defines (courses), their quizzes (quiz) taken in private (study), completions that
grant qualifications (completions), what a member holds (qualifications), reminders before they run out
(reminders)."""
