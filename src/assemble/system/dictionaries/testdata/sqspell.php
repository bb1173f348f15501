<?php
### This file is part of the dictionaries-common package.
### It has been automatically generated.
### DO NOT EDIT!
$SQSPELL_APP = array (
  'American (hunspell)' => 'hunspell -a -d en_US   '
);
