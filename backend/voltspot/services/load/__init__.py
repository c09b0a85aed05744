"""Load management: a site's grid connection shared among the cars charging there.

``settings``: what owners set (site limit, circuits, station caps and switches, plug
priorities) and the live view; ``allocation``: recompute a site's allocation from the
database and apply it to the chargers; ``loop``: the job that does it for every site;
``meter``: the site meter's readings; ``driver``: what a driver is told;
``intents``: the smart-charging intents of ChargerControl.
"""
