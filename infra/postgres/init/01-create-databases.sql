-- One database per service (the services never read each other's tables).
-- The postgres image runs this once, when the data volume is empty; each service
-- would also create its own database at boot if it were missing.
CREATE DATABASE orderflow_orders;
CREATE DATABASE orderflow_payment;
CREATE DATABASE orderflow_inventory;
CREATE DATABASE orderflow_shipping;
