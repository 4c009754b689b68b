(module (func $s (loop $l (br $l))) (start $s) (func (export "_start")))
