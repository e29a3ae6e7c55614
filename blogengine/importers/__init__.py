"""`blogengine import`: bring posts, pages and comments over from WordPress, Disqus, Jekyll and Hugo.

Each source module reads its input into a Plan (plan.py); apply.py writes the plan into the site
(files through a temporary folder, comments in one transaction)."""
