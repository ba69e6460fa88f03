-- Member search compares names without case or accents: "zolc" finds Żółć, "lukasz" finds Łukasz, "jose" finds
-- José. normalize(NFD) splits a letter from its accents, which are then dropped; letters that do not decompose
-- (Ł, Ø, Đ, Ħ, ı, Ŧ) are mapped by hand, and ß, Æ, Œ spelled out. What is left is ASCII, so lower() folds it
-- the same under any collation (a database created with the C locale lowercases ASCII only).
CREATE FUNCTION fold_name(s text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT lower(replace(replace(replace(replace(replace(
           regexp_replace(normalize(translate(s, 'ŁłØøĐđĦħıŦŧ', 'LlOoDdHhiTt'), NFD), '[\u0300-\u036f]', '', 'g'),
           'ß', 'ss'), 'Æ', 'Ae'), 'æ', 'ae'), 'Œ', 'Oe'), 'œ', 'oe'))
$$;
