// The exact bytes the app promises, written out rather than imported from src, so a change in
// the source cannot silently change what the tests expect.
export const ITEMS_BODY =
  '[{"id":1,"title":"Black Coffee"},{"id":2,"title":"Latte"},{"id":3,"title":"Caramel Latte"},{"id":4,"title":"Cappuccino"},{"id":5,"title":"Americano"},{"id":6,"title":"Espresso"}]';
export const ITEMS_KEY = 'items:v1:all';
