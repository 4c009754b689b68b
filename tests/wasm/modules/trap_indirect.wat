(module
  (type $v (func))
  (type $i (func (result i32)))
  (table 1 funcref) (elem (i32.const 0) $g)
  (func $g (result i32) (i32.const 1))
  (func (export "_start") (call_indirect (type $v) (i32.const 0))))
