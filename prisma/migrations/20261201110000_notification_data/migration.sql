-- The facts an e-mail is rendered from (issue 19, item 5): template name, amounts in cents, names, the balance
-- after, and for a low-balance warning the last five transactions. Written with the row, in the event's
-- transaction; rows from before this column have none and are shown from subject and body as before.
ALTER TABLE notifications ADD COLUMN data jsonb;
