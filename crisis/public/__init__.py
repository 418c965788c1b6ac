"""The permanent public information channels Tocsin serves itself (issue 21): the public
pages, the Atom feed and the CAP 1.2 alerts of the bulletins published to the public.

`reading` gathers what the public may read (published, to the public, of one mode) as plain
`PublicBulletin` values; `cap` and `atom` turn them into XML with lxml; `situation` sorts
them into what is in force and the archive; `cache` keeps the rendered answers until the
next publication; `inputs` checks the few query values a public URL takes.
"""
