-- The raw ceiling of an API earn on SQLite (bench/bench_http.py runs it with Python's
-- stdlib sqlite3, the product's pragmas, BEGIN IMMEDIATE ... COMMIT around 1 or 16 of
-- them): the rows one partner earn writes (loyalty/purchases.py record_purchase,
-- rules.award, ledger.earn, tiers.review, messages.after_purchase, partners/till.py earn,
-- partners/idempotency.py). Statements end with ";" at the end of a line; a statement
-- whose first line is "-- -> name" returns one value, bound as :name for those after it.
-- Bound by the caller: member, phone, amount, points, receipt, now, expires, day,
-- issuer (the partner's ledger account), partner, rule.

-- -> purchase
INSERT INTO loyalty_purchases (customer_id, issuer_account_id, receipt_number, receipt_key,
  amount, categories, points, refunded_amount, points_taken_back, recorded_by, created_at)
VALUES (:member, :issuer, :receipt, :receipt, :amount, '[]', :points, 0, 0, 'key:1', :now)
RETURNING id;

-- -> wallet
UPDATE loyalty_accounts SET balance = balance + :points
WHERE customer_id = :member AND kind = 'wallet' RETURNING id;

-- -> entry
INSERT INTO loyalty_journal (kind, amount, debit_account_id, credit_account_id, customer_id,
  idempotency_key, cause_type, cause_id, memo, created_by, created_at)
VALUES ('earn', :points, :issuer, :wallet, :member,
  'purchase:' || :purchase || ':rule:' || :rule, 'purchase', CAST(:purchase AS TEXT), 'base',
  'partner:1', :now)
RETURNING id;

INSERT INTO loyalty_lots (customer_id, entry_id, points, remaining, available, available_at,
  expires_at, created_at)
VALUES (:member, :entry, :points, :points, 1, :now, :expires, :now);

INSERT INTO loyalty_rule_awards (rule_id, customer_id, entry_id, points, day)
VALUES (:rule, :member, :entry, :points, :day);

INSERT INTO loyalty_member_tiers (customer_id, tier_id, since, points, reviewed_at)
VALUES (:member, NULL, :now, :points, :now)
ON CONFLICT (customer_id) DO UPDATE
SET points = loyalty_member_tiers.points + excluded.points, reviewed_at = excluded.reviewed_at;

-- -> transaction
INSERT INTO partner_transactions (partner_id, kind, customer_id, purchase_id, points, amount,
  receipt, reversed, recorded_by, created_at)
VALUES (:partner, 'earn', :member, :purchase, :points, :amount, :receipt, 0, 'key:1', :now)
RETURNING id;

INSERT INTO partner_idempotency (partner_id, "key", fingerprint, status, response, created_at)
VALUES (:partner, :receipt, hex(randomblob(32)), 201,
  json_object('id', :transaction, 'kind', 'earn', 'points', :points, 'amount', :amount), :now);

INSERT INTO audit_log (at, actor_kind, actor_id, action, object_type, object_id, details, ip)
VALUES (:now, 'partner', :partner, 'purchase.record', 'purchase', CAST(:purchase AS TEXT),
  json_object('receipt', :receipt, 'amount', :amount, 'points', :points), '127.0.0.1');

INSERT INTO sms_messages ("to", body, kind, sensitive, urgent, status, attempts,
  next_attempt_at, created_at)
VALUES (:phone, 'Vafa: this purchase earned you ' || :points || ' points.', 'text', 0, 1,
  'pending', 0, :now, :now);
